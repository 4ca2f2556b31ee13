using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>
/// The chat protocol against the socket.io baseline (bench/baselines/socketio), with the bench's socket.io client (<see cref="SocketIoConnection"/>): namespace
/// <c>/customer</c> (<c>startChat</c>, <c>message</c>, <c>endChat</c>; gets <c>agentJoined</c>, <c>message</c>) and
/// <c>/agent</c> (<c>available</c>, <c>acceptOffer</c>, <c>message</c>; gets <c>offer</c>, <c>message</c>). Every emit
/// waits for the server's acknowledgement, as a hub invocation waits for its answer. No sign-in.
/// </summary>
internal sealed class SocketIoChatWire(Uri target) : IChatWire
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public async Task<IChatCustomer> ConnectCustomerAsync(CustomerEvents events, CancellationToken cancellationToken)
    {
        var socket = await SocketIoConnection.ConnectAsync(target, "/customer", s =>
        {
            s.On("agentJoined", _ => events.OnAgentJoined());
            s.On("message", args => events.OnMessage(Event(args[0])));
        }, cancellationToken);
        return new Customer(socket);
    }

    public async Task<IChatAgent> ConnectAgentAsync(string agentId, string password, AgentEvents events, CancellationToken cancellationToken)
    {
        var socket = await SocketIoConnection.ConnectAsync(target, "/agent", s =>
        {
            s.On("offer", args => events.OnOffer(args[0].GetProperty("sessionId").GetGuid()));
            s.On("message", args => events.OnMessage(args[0].GetGuid(), Event(args[1])));
        }, cancellationToken);
        return new Agent(socket);
    }

    public void Dispose()
    {
    }

    private static ChannelEvent Event(JsonElement evt) => evt.Deserialize<ChannelEvent>(Json)!;

    private sealed class Customer(SocketIoConnection socket) : IChatCustomer
    {
        public bool IsConnected => socket.IsConnected;

        public async Task<StartChatResult> StartChatAsync(StartChatInput input, CancellationToken cancellationToken)
        {
            var answer = await socket.EmitAsync("startChat", new { site = input.Site, queue = input.Queue, name = input.Name, pageUrl = input.PageUrl });
            return answer.Deserialize<StartChatResult>(Json)!;
        }

        public Task SendMessageAsync(string text, string clientMessageId) => socket.EmitAsync("message", text);

        public Task EndChatAsync() => socket.EmitAsync("endChat");

        public Task ResumeAsync(string resumeToken, CancellationToken cancellationToken) => Task.CompletedTask;

        public async ValueTask DisposeAsync() => await socket.CloseAsync();
    }

    private sealed class Agent(SocketIoConnection socket) : IChatAgent
    {
        public Task SetAvailableAsync(CancellationToken cancellationToken) => socket.EmitAsync("available");

        public async Task<AcceptResult> AcceptOfferAsync(Guid sessionId, CancellationToken cancellationToken) =>
            (await socket.EmitAsync("acceptOffer", sessionId.ToString())).Deserialize<AcceptResult>(Json)!;

        public Task SendMessageAsync(Guid channelId, string text, string clientMessageId) => socket.EmitAsync("message", channelId.ToString(), text);

        public async ValueTask DisposeAsync() => await socket.CloseAsync();
    }
}
