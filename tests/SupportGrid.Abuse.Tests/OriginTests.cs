using System.Net;
using System.Net.WebSockets;
using System.Text.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Security;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>Pages of foreign origins cannot use a shopper's or an agent's browser against the gateway.</summary>
public sealed class OriginTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    private StartChatInput Chat(string site, string queue) =>
        new(site, queue, "Dana", null, null, "http://127.0.0.1/demo/", "Demo", null, null);

    [Fact]
    public async Task AForeignOriginIsRefusedOnNegotiateAndOnEveryTransportsConnect()
    {
        using var http = gateway.Http(gateway.NextAddress());
        var connectionToken = await NegotiateAsync(http, origin: null);

        var negotiate = await SendAsync(http, HttpMethod.Post, "/hubs/customer/negotiate?negotiateVersion=1", AbuseGateway.ForeignOrigin);
        var longPolling = await SendAsync(http, HttpMethod.Get, $"/hubs/customer?id={connectionToken}", AbuseGateway.ForeignOrigin);
        var serverSentEvents = await SendAsync(http, HttpMethod.Get, $"/hubs/customer?id={connectionToken}", AbuseGateway.ForeignOrigin, "text/event-stream");
        Assert.Equal([HttpStatusCode.Forbidden, HttpStatusCode.Forbidden, HttpStatusCode.Forbidden],
            [negotiate.StatusCode, longPolling.StatusCode, serverSentEvents.StatusCode]);
        Assert.Equal("application/problem+json", negotiate.Content.Headers.ContentType?.MediaType);
        Assert.Contains(SecurityErrorCodes.ForbiddenOrigin, await negotiate.Content.ReadAsStringAsync());

        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("Origin", AbuseGateway.ForeignOrigin);
        socket.Options.CollectHttpResponseDetails = true;
        var ws = new UriBuilder(gateway.BaseAddress) { Scheme = "ws", Path = "/hubs/customer", Query = "id=" + connectionToken }.Uri;
        await Assert.ThrowsAsync<WebSocketException>(() => socket.ConnectAsync(ws, CancellationToken.None));
        Assert.Equal(HttpStatusCode.Forbidden, socket.HttpStatusCode);

        Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8001 && l.Message.Contains(AbuseGateway.ForeignOrigin) && l.Message.Contains("/hubs/customer"));
        await _bystander.StillChattingAsync();
    }

    [Theory]
    [InlineData(HttpTransportType.WebSockets)]
    [InlineData(HttpTransportType.LongPolling)]
    [InlineData(HttpTransportType.ServerSentEvents)]
    public async Task AConfiguredSiteOriginConnectsOnEveryTransportAndChatsOnlyForItsOwnSite(HttpTransportType transport)
    {
        await using var customer = gateway.Customer(gateway.NextAddress(), AbuseGateway.ShopOrigin, transport);
        await customer.StartAsync();

        var foreignSite = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat", Chat("demo", _slot.Queue)));
        Assert.Contains("HubException: " + SecurityErrorCodes.ForbiddenOrigin + ":", foreignSite.Message);
        var own = await customer.InvokeAsync<StartChatResult>("StartChat", Chat("shop", "sales"));
        Assert.NotEqual(Guid.Empty, own.SessionId);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task ARequestWithoutOriginIsNotABrowsersAndPasses()
    {
        using var http = gateway.Http(gateway.NextAddress());
        Assert.NotEmpty(await NegotiateAsync(http, origin: null));
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/widget/chat.js", origin: null)).StatusCode);
        await using var customer = gateway.Customer(gateway.NextAddress());
        await customer.StartAsync();
        Assert.NotEqual(Guid.Empty, (await customer.InvokeAsync<StartChatResult>("StartChat", Chat("shop", "sales"))).SessionId);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task TheWidgetModuleIsServedOnlyToTheSitesOrigins()
    {
        using var http = gateway.Http(gateway.NextAddress());
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, "/widget/chat.js", AbuseGateway.ForeignOrigin)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, "/widget/chat.js", "null")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/widget/chat.js", AbuseGateway.ShopOrigin)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await SendAsync(http, HttpMethod.Get, "/widget/chat.js", gateway.OwnOrigin)).StatusCode);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task TheConsolesHubAndApisAcceptOnlyTheGatewaysOwnOrigin()
    {
        var address = gateway.NextAddress();
        using var http = gateway.Http(address);
        foreach (var origin in new[] { AbuseGateway.ForeignOrigin, AbuseGateway.ShopOrigin })
        {
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Post, "/hubs/agent/negotiate?negotiateVersion=1", origin)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Post, "/api/auth/token", origin)).StatusCode);
            Assert.Equal(HttpStatusCode.Forbidden, (await SendAsync(http, HttpMethod.Get, "/api/sessions", origin)).StatusCode);
        }
        var token = await gateway.TokenAsync(_slot.AgentId, address);
        await using var console = gateway.Agent(token, address, gateway.OwnOrigin);
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "away");
        await using var foreign = gateway.Agent(token, address, AbuseGateway.ShopOrigin);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => foreign.StartAsync());
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task TheDemoSiteAcceptsTheGatewaysOwnOriginAndNoOtherSiteDoes()
    {
        await using var customer = gateway.Customer(gateway.NextAddress(), gateway.OwnOrigin);
        await customer.StartAsync();
        var shop = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat", Chat("shop", "sales")));
        Assert.Contains("HubException: " + SecurityErrorCodes.ForbiddenOrigin + ":", shop.Message);
        Assert.NotEqual(Guid.Empty, (await customer.InvokeAsync<StartChatResult>("StartChat", Chat("demo", _slot.Queue))).SessionId);
        await _bystander.StillChattingAsync();
    }

    private static async Task<string> NegotiateAsync(HttpClient http, string? origin)
    {
        var response = await SendAsync(http, HttpMethod.Post, "/hubs/customer/negotiate?negotiateVersion=1", origin);
        response.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return body.RootElement.GetProperty("connectionToken").GetString()!;
    }

    private static async Task<HttpResponseMessage> SendAsync(HttpClient http, HttpMethod method, string path, string? origin, string? accept = null)
    {
        using var request = new HttpRequestMessage(method, path);
        if (origin is not null)
            request.Headers.Add("Origin", origin);
        if (accept is not null)
            request.Headers.Add("Accept", accept);
        if (method == HttpMethod.Post)
            request.Content = new StringContent("{}", System.Text.Encoding.UTF8, "application/json");
        return await http.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
    }
}
