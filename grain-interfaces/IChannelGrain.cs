namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One conversation: members, the transcript of events with per-channel sequence numbers, and the current page.
/// Key: the channel id (a random Guid). Each event is stored, then published on the channel's stream.
/// </summary>
[Alias("sg.IChannelGrain")]
public interface IChannelGrain : IGrainWithGuidKey
{
    /// <summary>Opens the channel with a customer and an agent. Idempotent: a second call returns the events so far.</summary>
    [Alias("Open")]
    Task<IReadOnlyList<ChannelEvent>> OpenAsync(ChannelOpening opening);

    /// <summary>Posts a chat message; returns it as stored (with its sequence number). Idempotent per member and
    /// <paramref name="clientMessageId"/>: a repeat returns the message stored the first time.</summary>
    [Alias("PostMessage")]
    Task<ChannelEvent> PostMessageAsync(MemberRef from, string text, string clientMessageId);

    /// <summary>An agent sends every customer of the channel to <paramref name="url"/> (http or https only).</summary>
    [Alias("Navigate")]
    Task<long> NavigateAsync(MemberRef from, string url);

    /// <summary>Publishes a typing signal; never stored.</summary>
    [Alias("SetTyping")]
    Task SetTypingAsync(MemberRef from, bool isTyping);

    /// <summary>Adds an agent (a transfer's next agent); returns every event so far. Idempotent.</summary>
    [Alias("Join")]
    Task<IReadOnlyList<ChannelEvent>> JoinAsync(MemberRef agent);

    /// <summary>An agent leaves the channel (transferred it on); the customer stays.</summary>
    [Alias("Leave")]
    Task LeaveAsync(MemberRef agent, string reason);

    /// <summary>Ends the channel for everyone.</summary>
    [Alias("End")]
    Task EndAsync(MemberRef by, string reason);

    /// <summary>Publishes a probe on the channel's stream for a gateway's new subscription (<see cref="ChannelStreamItem.ProbeFor"/>):
    /// in the stream it comes after every event published so far and before every later one. Not a member call.</summary>
    [Alias("Probe")]
    Task ProbeAsync(Guid probe);

    /// <summary>Every event after <paramref name="afterSeq"/>, for a member.</summary>
    [Alias("GetEvents")]
    Task<IReadOnlyList<ChannelEvent>> GetEventsAsync(MemberRef who, long afterSeq);

    /// <summary>The channel's members (for a member).</summary>
    [Alias("GetMembers")]
    Task<IReadOnlyList<MemberRef>> GetMembersAsync(MemberRef who);

    /// <summary>An agent of the channel makes a join code valid for <paramref name="lifetime"/>: customers who use it join
    /// this channel as further customers.</summary>
    [Alias("CreateJoinCode")]
    Task<JoinCode> CreateJoinCodeAsync(MemberRef agent, TimeSpan lifetime);

    /// <summary>Adds a customer who came with a join code; returns every event so far. Idempotent.</summary>
    [Alias("AddCustomer")]
    Task<IReadOnlyList<ChannelEvent>> AddCustomerAsync(MemberRef customer);

    /// <summary>A customer leaves. While another customer remains (with an agent, or waiting together for the next agent
    /// after a transfer), the channel goes on without them (a <c>left</c> event); otherwise the channel ends for everyone.
    /// Returns true if the channel ended.</summary>
    [Alias("CustomerLeave")]
    Task<bool> CustomerLeaveAsync(MemberRef customer);

    /// <summary>The customer who waits in a queue for the whole channel after a transfer leaves (ended, abandoned).
    /// Returns the customers who remain (one of them should wait in their place), or none when none is left (the channel
    /// then ends with <paramref name="reason"/>).</summary>
    [Alias("HandOverWait")]
    Task<IReadOnlyList<Guid>> HandOverWaitAsync(MemberRef customer, string reason);

    /// <summary>An agent sends one customer of the channel (by session id) to <paramref name="url"/> (http or https only).</summary>
    [Alias("NavigateCustomer")]
    Task<long> NavigateCustomerAsync(MemberRef from, Guid sessionId, string url);

    /// <summary>A customer's widget says where its page is; agents hear it on the stream (never stored).</summary>
    [Alias("ReportPage")]
    Task ReportPageAsync(MemberRef customer, PageReport report);

    /// <summary>Relays a customer's page activity (scroll, viewport, visibility, click, focus) to the agents; never stored.</summary>
    [Alias("PageActivity")]
    Task PageActivityAsync(MemberRef customer, PageActivity activity);

    /// <summary>An agent of the channel shows something on the customers' pages (pointer, highlight, scroll to an element,
    /// clear); relayed on the stream to the customers (all, or <see cref="AgentGuide.To"/>), never stored.</summary>
    [Alias("Guide")]
    Task GuideAsync(MemberRef agent, AgentGuide guide);

    /// <summary>Relays a piece of a customer's live page view to the agents; never stored.</summary>
    [Alias("PageView")]
    Task PageViewAsync(MemberRef customer, PageViewChunk chunk);

    /// <summary>An agent of the channel opens or closes a customer's live page view (relayed to that customer's widget). The
    /// customer's widget records while at least one agent watches: opening asks for a fresh full snapshot, closing stops the
    /// recording only when no other agent of the chat still watches.</summary>
    [Alias("RequestPageView")]
    Task RequestPageViewAsync(MemberRef agent, Guid sessionId, bool on);

    /// <summary>The agent no longer watches any customer of the channel (its last console closed); recordings nobody else
    /// watches stop.</summary>
    [Alias("StopWatching")]
    Task StopWatchingAsync(MemberRef agent);

    /// <summary>Every customer of the channel with their page and the fate of the last navigation sent to them (for an agent).</summary>
    [Alias("GetCustomers")]
    Task<IReadOnlyList<CustomerPresence>> GetCustomersAsync(MemberRef agent);
}
