namespace SupportGrid.Bench;

/// <summary>Which client library and server shape a chat-like scenario (<c>chat</c>, <c>route</c>) speaks.</summary>
public enum ChatProtocol
{
    /// <summary>SignalR hubs <c>/hubs/customer</c> and <c>/hubs/agent</c> (SupportGrid and the raw SignalR baseline).</summary>
    SignalR,

    /// <summary>socket.io namespaces <c>/customer</c> and <c>/agent</c> (bench/baselines/socketio), with the bench's own socket.io client.</summary>
    SocketIo,
}

/// <summary>What a customer's client is told by the server. Called on the client's receive thread: do not block.</summary>
internal sealed record CustomerEvents(Action OnAgentJoined, Action<ChannelEvent> OnMessage);

/// <summary>What an agent's client is told by the server. Called on the client's receive thread: do not block.</summary>
internal sealed record AgentEvents(Action<Guid> OnOffer, Action<Guid, ChannelEvent> OnMessage);

/// <summary>One customer connection: starts one chat, sends, ends.</summary>
internal interface IChatCustomer : IAsyncDisposable
{
    bool IsConnected { get; }

    Task<StartChatResult> StartChatAsync(StartChatInput input, CancellationToken cancellationToken);

    Task SendMessageAsync(string text, string clientMessageId);

    /// <summary>Ends the chat; a chat that has already ended is not an error.</summary>
    Task EndChatAsync();

    /// <summary>Re-attaches to the session (SupportGrid's answer to a missed push); a no-op where the server has none.</summary>
    Task ResumeAsync(string resumeToken, CancellationToken cancellationToken);
}

/// <summary>One signed-in agent connection.</summary>
internal interface IChatAgent : IAsyncDisposable
{
    Task SetAvailableAsync(CancellationToken cancellationToken);

    Task<AcceptResult> AcceptOfferAsync(Guid sessionId, CancellationToken cancellationToken);

    Task SendMessageAsync(Guid channelId, string text, string clientMessageId);
}

/// <summary>Opens customer and agent connections of one protocol against one server.</summary>
internal interface IChatWire : IDisposable
{
    Task<IChatCustomer> ConnectCustomerAsync(CustomerEvents events, CancellationToken cancellationToken);

    Task<IChatAgent> ConnectAgentAsync(string agentId, string password, AgentEvents events, CancellationToken cancellationToken);
}

/// <summary>Addresses for <c>X-Forwarded-For</c>, one per connection: 10.0.0.1, 10.0.0.2, ... (never an attacker's).</summary>
internal static class ForwardedAddresses
{
    private static int s_next;

    public static string Next()
    {
        var n = Interlocked.Increment(ref s_next);
        return $"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}";
    }
}

internal static class ChatWire
{
    /// <summary>The wire for <paramref name="protocol"/> to <paramref name="target"/>; with <paramref name="distinctAddresses"/>,
    /// each SignalR connection and sign-in claims an address of its own (X-Forwarded-For).</summary>
    public static IChatWire For(ChatProtocol protocol, Uri target, bool distinctAddresses = false) => protocol switch
    {
        ChatProtocol.SocketIo => new SocketIoChatWire(target),
        _ => new SignalRChatWire(target, distinctAddresses ? ForwardedAddresses.Next : null),
    };

    /// <summary>The protocol a target speaks: socket.io for the socket.io baseline, SignalR for the others.</summary>
    public static ChatProtocol ProtocolOf(Target target) => target.Name == Target.SocketIo ? ChatProtocol.SocketIo : ChatProtocol.SignalR;
}
