using Orleans.Concurrency;

namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One agent: status, capacity, pending offers, active chats and the gateways their consoles are connected to.
/// Key: the agent id (the <c>sub</c> of the agent's token).
/// </summary>
[Alias("sg.IAgentGrain")]
public interface IAgentGrain : IGrainWithStringKey
{
    /// <summary>A console connected through a gateway. Returns the agent's current state.</summary>
    [Alias("Connect")]
    Task<AgentSnapshot> ConnectAsync(string connectionId, AgentProfile profile, IGatewayObserver gateway);

    /// <summary>A console disconnected. When the last one goes, the agent goes offline and its offers are re-routed.</summary>
    [Alias("Disconnect")]
    Task DisconnectAsync(string connectionId);

    /// <summary>Sets available, away or offline.</summary>
    [Alias("SetStatus")]
    Task SetStatusAsync(string status);

    /// <summary>The agent's state, with every event of each active chat.</summary>
    [Alias("GetSnapshot")]
    Task<AgentSnapshot> GetSnapshotAsync();

    /// <summary>Called by a queue: a chat is offered.</summary>
    [OneWay, Alias("ReceiveOffer")]
    Task ReceiveOfferAsync(string queueKey, ChatOffer offer);

    /// <summary>Called by a queue: an offer is withdrawn. <paramref name="missed"/>: it timed out unanswered.</summary>
    [OneWay, Alias("WithdrawOffer")]
    Task WithdrawOfferAsync(Guid sessionId, string reason, bool missed);

    /// <summary>Accepts an offered chat: claims it from the queue, opens the channel and tells the customer.</summary>
    [Alias("AcceptOffer")]
    Task<AcceptResult> AcceptOfferAsync(Guid sessionId);

    /// <summary>Accepts an offered chat into <paramref name="channelId"/>, a chat this agent is already in (a guided tour, a
    /// family shopping together): claims the customer from the queue, adds them to that channel as a further customer and
    /// tells them. Counts no extra capacity. Refused for a customer who was transferred with a chat of their own.</summary>
    [Alias("AcceptOfferIntoChannel")]
    Task<AcceptResult> AcceptOfferIntoChannelAsync(Guid sessionId, Guid channelId);

    /// <summary>Declines an offered chat.</summary>
    [Alias("DeclineOffer")]
    Task DeclineOfferAsync(Guid sessionId);

    /// <summary>Hands a chat on: the customer waits (for <paramref name="preferredAgentId"/> first, if given) in the chat's own
    /// queue if it is among <paramref name="queueKeys"/>, else in the first of them, in the same channel, with the note for
    /// the next agent; this agent leaves the channel.</summary>
    [Alias("Transfer")]
    Task TransferAsync(Guid channelId, IReadOnlyList<string> queueKeys, string? preferredAgentId, string? note);

    /// <summary>The agent's status (cheap; for transfer pickers).</summary>
    [Alias("GetStatus")]
    Task<string> GetStatusAsync();

    /// <summary>The profile in effect (configured, with runtime settings applied).</summary>
    /// <summary>The configured profile (the gateway's agent directory), for an agent who may never have signed in.</summary>
    [Alias("SetConfiguredProfile")]
    Task SetConfiguredProfileAsync(AgentProfile profile);

    [Alias("GetSettings")]
    Task<AgentSettingsView> GetSettingsAsync();

    /// <summary>Applies runtime settings over the configured profile at once (null: back to the configured profile).</summary>
    [Alias("UpdateSettings")]
    Task<AgentSettingsView> UpdateSettingsAsync(AgentSettings? settings);

    /// <summary>The invitation for a colleague to join one of this agent's chats (checks the agent is in it).</summary>
    [Alias("PrepareInvitation")]
    Task<ChatInvitation> PrepareInvitationAsync(Guid channelId, string? note);

    /// <summary>A colleague's invitation; refused if this agent is not available, at capacity or already in the chat.</summary>
    [Alias("ReceiveInvitation")]
    Task ReceiveInvitationAsync(ChatInvitation invitation);

    /// <summary>Joins the chat as a further agent; the customer sees who joined.</summary>
    [Alias("AcceptInvitation")]
    Task<AcceptResult> AcceptInvitationAsync(Guid channelId);

    [Alias("DeclineInvitation")]
    Task DeclineInvitationAsync(Guid channelId);

    /// <summary>To the inviter: the colleague declined (or let the invitation lapse).</summary>
    [OneWay, Alias("InvitationDeclined")]
    Task InvitationDeclinedAsync(Guid channelId, string colleague, string reason);

    /// <summary>Leaves a chat in which another agent stays; the last agent ends or transfers it instead.</summary>
    [Alias("LeaveChat")]
    Task LeaveChatAsync(Guid channelId);

    /// <summary>Called by a channel: it ended, the capacity is free again. The channel waits for it; it may interleave.</summary>
    [AlwaysInterleave, Alias("ChannelEnded")]
    Task ChannelEndedAsync(Guid channelId);
}
