using System.Net;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Security;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>Past a limit the caller gets a clear hub error, a caller that keeps going is disconnected, nobody else notices.</summary>
public sealed class LimitTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    private StartChatInput Chat(string name = "Dana", string? phone = null, string url = "http://127.0.0.1/demo/", string? title = "Demo") =>
        new("demo", _slot.Queue, name, phone, null, url, title, null, null);

    [Fact]
    public async Task TheAgentHubTakesFramesUpToItsOwnLargerLimit()
    {
        // 48 KB: over the customer hub's 32 KB, under the agent hub's 64 KB. SignalR's own setup of each hub's options used
        // to overwrite the per-hub limit with the global 32 KB default, which closed such a connection.
        var agentAddress = gateway.NextAddress();
        await using var agent = gateway.Agent(await gateway.TokenAsync(_slot.AgentId, agentAddress), agentAddress);
        await agent.StartAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() =>
            agent.InvokeAsync<SendResult>("SendMessage", Guid.NewGuid(), new string('m', 48 * 1024), "a-1"));
        Assert.Matches(@"HubException: [a-z_]+: ", refused.Message); // a coded refusal of the call, not a closed connection
        Assert.Equal(HubConnectionState.Connected, agent.State);
    }

    [Fact]
    public async Task AMessageLargerThanTheCustomerHubsLimitClosesThatConnectionOnly()
    {
        await using var customer = gateway.Customer(gateway.NextAddress());
        var closed = new TaskCompletionSource<Exception?>();
        customer.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await customer.StartAsync();
        await customer.InvokeAsync<StartChatResult>("StartChat", Chat());

        _ = customer.InvokeAsync<SendResult>("SendMessage", new string('x', 40 * 1024), "c-1").ContinueWith(_ => { });
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        Assert.Equal(HubConnectionState.Disconnected, customer.State);
        await _bystander.StillChattingAsync();
    }

    [Theory]
    [InlineData("text", ErrorCodes.MessageTooLong)]
    [InlineData("name", ErrorCodes.InvalidInput)]
    [InlineData("phone", ErrorCodes.InvalidInput)]
    [InlineData("url", ErrorCodes.InvalidUrl)]
    [InlineData("title", ErrorCodes.InvalidInput)]
    public async Task EveryFieldPastItsMaximumLengthGetsAHubError(string field, string code)
    {
        await using var customer = gateway.Customer(gateway.NextAddress());
        await customer.StartAsync();
        var input = field switch
        {
            "name" => Chat(name: new string('n', InputRules.MaxNameLength + 1)),
            "phone" => Chat(phone: new string('5', 41)),
            "url" => Chat(url: "http://127.0.0.1/" + new string('p', InputRules.MaxUrlLength)),
            "title" => Chat(title: new string('t', 301)),
            _ => null,
        };
        HubException refused;
        if (input is null)
        {
            await customer.InvokeAsync<StartChatResult>("StartChat", Chat());
            refused = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<SendResult>("SendMessage", new string('m', InputRules.MaxMessageLength + 1), "c-1"));
        }
        else
        {
            refused = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat", input));
        }
        Assert.Contains(code + ":", refused.Message);
        Assert.Equal(HubConnectionState.Connected, customer.State);
        await _bystander.StillChattingAsync();
    }

    /// <summary>Connects and calls as fast as answers come until the server closes the connection; returns the refusals.</summary>
    private async Task<List<string>> FloodUntilClosedAsync(HubConnection customer)
    {
        var closed = new TaskCompletionSource<Exception?>();
        customer.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await customer.StartAsync();
        var refusals = new List<string>();
        for (var i = 0; i < 60 && customer.State == HubConnectionState.Connected; i++)
        {
            try
            {
                await customer.InvokeAsync<QueueAvailability>("GetAvailability", "demo", _slot.Queue);
            }
            catch (HubException e)
            {
                refusals.Add(e.Message);
            }
            catch (Exception e) when (e is InvalidOperationException or TaskCanceledException or OperationCanceledException)
            {
                break; // the server closed the connection under the call
            }
        }
        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        return refusals;
    }

    [Fact]
    public async Task ACallFloodGetsRateLimitedAndACallerWhoKeepsGoingIsDisconnected()
    {
        await using var customer = gateway.Customer(gateway.NextAddress());
        var refusals = await FloodUntilClosedAsync(customer);
        Assert.Contains(refusals, r => r.Contains(SecurityErrorCodes.RateLimited + ": Too many calls on this connection"));
        Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8004);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task AnAddressDisconnectedForAFloodMayNotReconnectForAWhileAndOthersAreUnaffected()
    {
        var address = gateway.NextAddress();
        await using (var flooder = gateway.Customer(address))
        {
            var refusals = await FloodUntilClosedAsync(flooder);
            Assert.Contains(refusals, r => r.Contains(SecurityErrorCodes.RateLimited + ": Too many calls on this connection"));
            Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8004 && l.Message.Contains(address) && l.Message.Contains("may not connect for"));
        }

        // The same address is turned away before any upgrade, on every transport's way in, with the time to wait.
        await using var again = gateway.Customer(address);
        var reconnect = await Assert.ThrowsAsync<HttpRequestException>(() => again.StartAsync());
        Assert.Equal(HttpStatusCode.TooManyRequests, reconnect.StatusCode);
        using var http = gateway.Http(address);
        var negotiate = await http.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null);
        Assert.Equal(HttpStatusCode.TooManyRequests, negotiate.StatusCode);
        Assert.Equal("application/problem+json", negotiate.Content.Headers.ContentType?.MediaType);
        Assert.Contains(SecurityErrorCodes.RateLimited + ": This address was disconnected for too many refused calls", await negotiate.Content.ReadAsStringAsync());
        Assert.InRange(negotiate.Headers.RetryAfter?.Delta ?? TimeSpan.Zero, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(10));
        var longPolling = await http.GetAsync("/hubs/customer?id=whatever");
        Assert.Equal(HttpStatusCode.TooManyRequests, longPolling.StatusCode);
        Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8006 && l.Message.Contains(address));

        // Anyone else connects and chats as before.
        await using var other = gateway.Customer(gateway.NextAddress());
        await other.StartAsync();
        await other.InvokeAsync<QueueAvailability>("GetAvailability", "demo", _slot.Queue);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task NewChatsPerAddressAreCappedPerMinute()
    {
        var address = gateway.NextAddress();
        var refused = 0;
        for (var i = 0; i < 4; i++)
        {
            await using var customer = gateway.Customer(address);
            await customer.StartAsync();
            try
            {
                await customer.InvokeAsync<StartChatResult>("StartChat", Chat());
            }
            catch (HubException e) when (e.Message.Contains(SecurityErrorCodes.RateLimited + ": Too many new chats from this address"))
            {
                refused++;
                Assert.Equal(3, i);
            }
        }
        Assert.Equal(1, refused);
        // Another address is not affected.
        await using var other = gateway.Customer(gateway.NextAddress());
        await other.StartAsync();
        await other.InvokeAsync<StartChatResult>("StartChat", Chat());
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task ConnectionsPerAddressAreCapped()
    {
        var address = gateway.NextAddress();
        var open = new List<HubConnection>();
        try
        {
            for (var i = 0; i < 5; i++)
            {
                var c = gateway.Customer(address);
                open.Add(c);
                await c.StartAsync();
                await c.InvokeAsync<QueueAvailability>("GetAvailability", "demo", _slot.Queue);
            }
            var sixth = gateway.Customer(address);
            open.Add(sixth);
            var closed = new TaskCompletionSource<Exception?>();
            sixth.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
            // Refused before the upgrade (429), or, if it raced past that check, by the hub at connect.
            try
            {
                await sixth.StartAsync();
                var error = await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
                Assert.Contains(SecurityErrorCodes.TooManyConnections, error?.Message);
            }
            catch (HttpRequestException e)
            {
                Assert.Equal(HttpStatusCode.TooManyRequests, e.StatusCode);
            }
            using var http = gateway.Http(address);
            var negotiate = await http.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null);
            Assert.Equal(HttpStatusCode.TooManyRequests, negotiate.StatusCode);
            Assert.Contains(SecurityErrorCodes.TooManyConnections + ":", await negotiate.Content.ReadAsStringAsync());
        }
        finally
        {
            foreach (var c in open)
                await c.DisposeAsync();
        }
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task KestrelRefusesAnOversizedBodyAndOversizedHeaders()
    {
        using var http = gateway.Http(gateway.NextAddress());
        var body = await http.PostAsync("/api/auth/token", new StringContent(new string('x', 70_000), System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, body.StatusCode);
        using var request = new HttpRequestMessage(HttpMethod.Get, "/demo/");
        request.Headers.Add("X-Padding", new string('h', 20_000));
        var headers = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, headers.StatusCode);
        await _bystander.StillChattingAsync();
    }
}
