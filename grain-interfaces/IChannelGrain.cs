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

    /// <summary>Posts a chat message; returns its sequence number. Idempotent per member and <paramref name="clientMessageId"/>.</summary>
    [Alias("PostMessage")]
    Task<long> PostMessageAsync(MemberRef from, string text, string clientMessageId);

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

    /// <summary>Every event after <paramref name="afterSeq"/>, for a member.</summary>
    [Alias("GetEvents")]
    Task<IReadOnlyList<ChannelEvent>> GetEventsAsync(MemberRef who, long afterSeq);

    /// <summary>The channel's members (for a member).</summary>
    [Alias("GetMembers")]
    Task<IReadOnlyList<MemberRef>> GetMembersAsync(MemberRef who);
}
