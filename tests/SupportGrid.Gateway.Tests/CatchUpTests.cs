using SupportGrid.Gateway.Fanout;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>Which events a member who joined before the gateway's subscription received is sent once it does
/// (<see cref="ChannelFanout.Missed"/>): each event exactly once, by the stream or by the catch-up.</summary>
public sealed class CatchUpTests
{
    // A member read up to 2, then read again 3..8 once the probe came back.
    private static readonly IReadOnlyList<ChannelEvent> ReadAgain = [.. Enumerable.Range(3, 6).Select(Event)];

    private static ChannelEvent Event(int seq) =>
        new(seq, EventTypes.Message, new Participant(Roles.Customer, "Dana", null), $"m{seq}", null, DateTimeOffset.UnixEpoch);

    private static long[] Seqs(IReadOnlyList<ChannelEvent> events) => [.. events.Select(e => e.Seq)];

    [Fact]
    public void WhenTheStreamSentNothingYetEverythingBeforeTheProbeIsCaughtUp() =>
        // 6..8 came after the probe: the stream brings them.
        Assert.Equal([3, 4, 5], Seqs(ChannelFanout.Missed(ReadAgain, probeAfterSeq: 5, firstSentSeq: 0)));

    [Fact]
    public void WhatTheStreamSentBeforeTheProbeIsNotSentAgain() =>
        // The subscription received from 4 on (before the probe): only 3 fell in the gap.
        Assert.Equal([3], Seqs(ChannelFanout.Missed(ReadAgain, probeAfterSeq: 5, firstSentSeq: 4)));

    [Fact]
    public void WhenTheStreamReceivedEverythingNothingIsCaughtUp() =>
        Assert.Empty(ChannelFanout.Missed(ReadAgain, probeAfterSeq: 5, firstSentSeq: 3));

    [Fact]
    public void WhenTheProbeNeverCameBackEverythingTheStreamDidNotSendIsCaughtUp() =>
        Assert.Equal([3, 4, 5, 6], Seqs(ChannelFanout.Missed(ReadAgain, probeAfterSeq: long.MaxValue, firstSentSeq: 7)));
}
