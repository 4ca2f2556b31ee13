using System.Net.Http.Json;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Bench;

/// <summary>The chat protocol over SignalR (docs/protocol.md): SupportGrid and the raw SignalR baseline. Agents sign in
/// with <c>POST /api/auth/token</c>; every connection is a real WebSocket with the JSON hub protocol.</summary>
internal sealed class SignalRChatWire(Uri target, Func<string>? nextAddress = null) : IChatWire
{
    private readonly HttpClient _http = new() { BaseAddress = target };

    public async Task<IChatCustomer> ConnectCustomerAsync(CustomerEvents events, CancellationToken cancellationToken)
    {
        var hub = Connect(target, "/hubs/customer", null, nextAddress?.Invoke());
        hub.On<string>("AgentJoined", _ => events.OnAgentJoined());
        hub.On<ChannelEvent>("Message", events.OnMessage);
        await StartOrDisposeAsync(hub, cancellationToken);
        return new Customer(hub);
    }

    public async Task<IChatAgent> ConnectAgentAsync(string agentId, string password, AgentEvents events, CancellationToken cancellationToken)
    {
        var address = nextAddress?.Invoke();
        var token = await SignInAsync(_http, agentId, password, cancellationToken, address);
        var hub = Connect(target, "/hubs/agent", token, address);
        hub.On<ChatOffer>("Offer", offer => events.OnOffer(offer.SessionId));
        hub.On<Guid, ChannelEvent>("Message", events.OnMessage);
        await StartOrDisposeAsync(hub, cancellationToken);
        return new Agent(hub);
    }

    public void Dispose() => _http.Dispose();

    /// <summary>Signs a bench agent in with <c>POST /api/auth/token</c>; returns the access token for <c>/hubs/agent</c>.</summary>
    internal static async Task<string> SignInAsync(HttpClient http, string agentId, string password, CancellationToken cancellationToken, string? address = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token") { Content = JsonContent.Create(new TokenRequest(agentId, password)) };
        if (address is not null)
            request.Headers.Add("X-Forwarded-For", address);
        var response = await http.SendAsync(request, cancellationToken);
        if (!response.IsSuccessStatusCode)
            throw new InvalidOperationException($"Agent {agentId} could not sign in ({(int)response.StatusCode}). Was the deployment started with the bench agents (bench agents-env)?");
        return (await response.Content.ReadFromJsonAsync<TokenResponse>(cancellationToken))!.AccessToken;
    }

    private static async Task StartOrDisposeAsync(HubConnection hub, CancellationToken cancellationToken)
    {
        try
        {
            await hub.StartAsync(cancellationToken);
        }
        catch
        {
            await hub.DisposeAsync();
            throw;
        }
    }

    internal static HubConnection Connect(Uri target, string path, string? token, string? address = null) => new HubConnectionBuilder()
        .WithUrl(new Uri(target, path), o =>
        {
            // Real WebSockets straight away, as the widget and console do after negotiation.
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
            if (token is not null)
                o.AccessTokenProvider = () => Task.FromResult<string?>(token);
            if (address is not null)
                o.Headers["X-Forwarded-For"] = address;
        })
        .Build();

    private sealed class Customer(HubConnection hub) : IChatCustomer
    {
        public bool IsConnected => hub.State == HubConnectionState.Connected;

        public Task<StartChatResult> StartChatAsync(StartChatInput input, CancellationToken cancellationToken) =>
            hub.InvokeAsync<StartChatResult>("StartChat", input, cancellationToken);

        public Task SendMessageAsync(string text, string clientMessageId) => hub.InvokeAsync<SendResult>("SendMessage", text, clientMessageId);

        public async Task EndChatAsync()
        {
            try
            {
                await hub.InvokeAsync("EndChat");
            }
            catch (HubException)
            {
                // Already ended.
            }
        }

        public Task ResumeAsync(string resumeToken, CancellationToken cancellationToken) =>
            hub.InvokeAsync<ResumeResult>("Resume", resumeToken, 0L, cancellationToken);

        public ValueTask DisposeAsync() => hub.DisposeAsync();
    }

    private sealed class Agent(HubConnection hub) : IChatAgent
    {
        public Task SetAvailableAsync(CancellationToken cancellationToken) => hub.InvokeAsync("SetStatus", "available", cancellationToken);

        public Task<AcceptResult> AcceptOfferAsync(Guid sessionId, CancellationToken cancellationToken) =>
            hub.InvokeAsync<AcceptResult>("AcceptOffer", sessionId, cancellationToken);

        public Task SendMessageAsync(Guid channelId, string text, string clientMessageId) =>
            hub.InvokeAsync<SendResult>("SendMessage", channelId, text, clientMessageId);

        public ValueTask DisposeAsync() => hub.DisposeAsync();
    }
}
