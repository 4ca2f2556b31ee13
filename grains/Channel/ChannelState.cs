using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Channel;

/// <summary>Persistent state of a channel: members, the transcript and the current page.</summary>
[GenerateSerializer, Alias("sg.ChannelState")]
public sealed class ChannelState
{
    [Id(0)] public string Site { get; set; } = "";
    [Id(1)] public string Queue { get; set; } = "";
    [Id(2)] public List<MemberRef> Members { get; set; } = [];

    /// <summary>Events in order; the event with sequence number n is at index n - 1.</summary>
    [Id(3)] public List<ChannelEvent> Events { get; set; } = [];

    /// <summary>Sequence number of each message by "{memberId}\n{clientMessageId}", so a retried send is not stored twice.</summary>
    [Id(4)] public Dictionary<string, long> ClientMessageIds { get; set; } = [];
    [Id(5)] public string? CurrentUrl { get; set; }
    [Id(6)] public bool Ended { get; set; }
}
