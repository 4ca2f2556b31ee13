using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Channel;

/// <summary>Persistent state of a channel: members, the transcript and the current page.</summary>
[GenerateSerializer, Alias("sg.ChannelState")]
public sealed class ChannelState
{
    [Id(0)] public string Site { get; set; } = "";
    [Id(1)] public string Queue { get; set; } = "";
    [Id(2)] public List<MemberRef> Members { get; set; } = [];

    /// <summary>Events as the first version stored them, all in this record; moved to pages on activation.</summary>
    [Id(3)] public List<ChannelEvent> Events { get; set; } = [];

    /// <summary>Message keys as the first version stored them; moved to pages with the events.</summary>
    [Id(4)] public Dictionary<string, long> ClientMessageIds { get; set; } = [];
    /// <summary>The page customers are on: the opening page, then the last navigation of everyone. A navigation does not
    /// write this record (activation reads it back from the last such event), so the stored value may be older.</summary>
    [Id(5)] public string? CurrentUrl { get; set; }
    [Id(6)] public bool Ended { get; set; }

    /// <summary>Customers who left while the channel went on: they may still read the transcript (to resume and see their end).</summary>
    [Id(7)] public List<MemberRef> FormerMembers { get; set; } = [];

    /// <summary>Events per page of this channel, fixed when it opens (0: a channel opened before the size was recorded,
    /// whose pages hold <see cref="ChannelEventPage.LegacySize"/>).</summary>
    [Id(8)] public int PageSize { get; set; }

    /// <summary>Who watches each customer's live page view (agent ids), so that a reactivated channel still knows when the
    /// last viewer closes it and the customer's widget may stop recording.</summary>
    [Id(9)] public Dictionary<Guid, HashSet<string>> Viewers { get; set; } = [];
}

/// <summary>
/// Events <c>Number * Size + 1</c> to <c>(Number + 1) * Size</c> of a channel, one storage record, so that a message writes
/// one bounded page. Pages are numbered from 0 without gaps (a channel reads them at activation until one is missing).
/// </summary>
[GenerateSerializer, Alias("sg.ChannelEventPage")]
public sealed class ChannelEventPage
{
    /// <summary>Events per page of a new channel. Every message rewrites its page, so a smaller page costs less per
    /// message (the profile at 2,000 messages/s showed 11% of the process serializing 64-event pages; with 16, 8% of all
    /// allocation, half of it the serializer's reference table, which overflows its 64 inline slots on a fuller page).</summary>
    public const int Size = 8;

    /// <summary>Events per page of channels opened before the size was recorded in their state.</summary>
    public const int LegacySize = 64;

    [Id(0)] public List<ChannelEvent> Events { get; set; } = [];

    /// <summary>Sequence number of each message of this page by "{memberId}\n{clientMessageId}", so a retried send is not stored twice.</summary>
    [Id(1)] public Dictionary<string, long> ClientMessageIds { get; set; } = [];
}
