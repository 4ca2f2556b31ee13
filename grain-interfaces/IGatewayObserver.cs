using Orleans.Concurrency;

namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One per gateway process: how grains push to the browsers connected to that gateway, one agent or one customer at a time.
/// Channel broadcasts do not come this way; they travel on the channel's stream.
/// Every method is one-way: a grain never waits on a gateway, and a dead gateway costs nothing but a lost push,
/// which the client recovers by resuming.
/// </summary>
[Alias("sg.IGatewayObserver")]
public interface IGatewayObserver : IGrainObserver
{
    /// <summary>A chat is offered to the agent.</summary>
    [OneWay, Alias("Offer")]
    Task OfferAsync(string agentId, ChatOffer offer);

    /// <summary>A colleague invites the agent to join a chat.</summary>
    [OneWay, Alias("Invitation")]
    Task InvitationAsync(string agentId, ChatInvitation invitation);

    /// <summary>An invitation is no longer open (it lapsed or the chat ended); or, to the inviter, the colleague declined.</summary>
    [OneWay, Alias("InvitationClosed")]
    Task InvitationClosedAsync(string agentId, Guid channelId, string reason);

    /// <summary>An offer is no longer open to the agent (taken, timed out, customer left).</summary>
    [OneWay, Alias("OfferWithdrawn")]
    Task OfferWithdrawnAsync(string agentId, Guid sessionId, string reason);

    /// <summary>The agent's status changed (for every console the agent has open).</summary>
    [OneWay, Alias("AgentStatus")]
    Task AgentStatusAsync(string agentId, string status);

    /// <summary>The agent left a channel (transferred it on): their consoles stop following it.</summary>
    [OneWay, Alias("ChatLeft")]
    Task ChatLeftAsync(string agentId, Guid channelId, string reason);

    /// <summary>The customer's place in the queue changed.</summary>
    [OneWay, Alias("QueuePosition")]
    Task QueuePositionAsync(Guid sessionId, int position, int estimatedWaitSeconds);

    /// <summary>A queue's changed positions for the customers connected to this gateway, in one call per gateway per
    /// tick (not one grain call per waiting customer).</summary>
    [OneWay, Alias("QueuePositions")]
    Task QueuePositionsAsync(IReadOnlyList<QueuePositionUpdate> updates);

    /// <summary>An agent accepted the customer: the customer's connections join the channel.</summary>
    [OneWay, Alias("AgentJoined")]
    Task AgentJoinedAsync(Guid sessionId, Guid channelId, string agentName);

    /// <summary>The session ended before it reached a channel (the customer left the queue).</summary>
    [OneWay, Alias("SessionEnded")]
    Task SessionEndedAsync(Guid sessionId, string reason, bool offerMessage);
}
