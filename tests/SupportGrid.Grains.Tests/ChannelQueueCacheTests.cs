using Microsoft.Extensions.Logging.Abstractions;
using Orleans.Providers.Streams.Common;
using Orleans.Runtime;
using Orleans.Streams;
using SupportGrid.Grains.Streams;
using Xunit;

namespace SupportGrid.Grains.Tests;

/// <summary>
/// The stream cache of the channel streams. The case: a subscriber joins a flowing stream; its cursor is placed at the
/// token of the event that arrived while it was joining, but the cache had already purged that event (nothing stood on
/// it). Orleans' SimpleQueueCache then throws on every refresh of that cursor, out of the pulling agent's read loop.
/// </summary>
public sealed class ChannelQueueCacheTests
{
    private static readonly StreamId Stream = StreamId.Create("channels", Guid.NewGuid());

    private static IList<IBatchContainer> Batch(long sequenceNumber, string text) =>
        [new ChannelBatchContainer(new ChannelQueueMessage(Stream, [text]) { SequenceNumber = sequenceNumber })];

    [Fact]
    public void SimpleQueueCacheAloneThrowsOnRefreshOfACursorWaitingForAPurgedEvent()
    {
        // The defect the wrapper exists for: if Orleans fixes it, this test says the wrapper can go.
        var cache = new SimpleQueueCache(4096, NullLogger.Instance);
        var cursor = ((IQueueCache)cache).TryGetCacheCursor(Stream, new EventSequenceTokenV2(1)).Cursor!; // cache empty: waits for 1
        cache.AddToCache(Batch(2, "second"));
        Assert.Throws<QueueCacheMissException>(() => cursor.Refresh(new EventSequenceTokenV2(2)));
    }

    [Fact]
    public void ACursorWaitingForAPurgedEventRestartsAtTheOldestCachedEventAndReadsOn()
    {
        var cache = new ChannelQueueCache(new SimpleQueueCache(4096, NullLogger.Instance), NullLogger<ChannelQueueCache>.Instance);
        var cursor = cache.TryGetCacheCursor(Stream, new EventSequenceTokenV2(1)).Cursor!; // event 1 was purged before it was placed
        cache.AddToCache(Batch(2, "second"));
        cache.AddToCache(Batch(3, "third"));

        cursor.Refresh(new EventSequenceTokenV2(2));

        Assert.Equal(1, cache.Recoveries);
        Assert.Equal(["second", "third"], ReadAll(cursor));
        cache.AddToCache(Batch(4, "fourth"));
        cursor.Refresh(new EventSequenceTokenV2(4));
        Assert.Equal(["fourth"], ReadAll(cursor));
        Assert.Equal(1, cache.Recoveries);
    }

    [Fact]
    public void AfterAPurgeTheRecoveredCursorStartsAtWhatIsStillCached()
    {
        var cache = new ChannelQueueCache(new SimpleQueueCache(4096, NullLogger.Instance), NullLogger<ChannelQueueCache>.Instance);
        var reader = cache.TryGetCacheCursor(Stream, null).Cursor!;
        cache.AddToCache(Batch(1, "first"));
        cache.AddToCache(Batch(2, "second"));
        reader.Refresh(new EventSequenceTokenV2(1));
        Assert.Equal(["first", "second"], ReadAll(reader));
        reader.Dispose();
        Assert.True(cache.TryPurgeFromCache(out var purged)); // nobody stands on 1 and 2 any more
        Assert.Equal(2, purged.Count);

        var late = cache.TryGetCacheCursor(Stream, new EventSequenceTokenV2(1)).Cursor!; // cache empty: waits for 1
        cache.AddToCache(Batch(3, "third"));
        late.Refresh(new EventSequenceTokenV2(3));

        Assert.Equal(["third"], ReadAll(late));
    }

    private static List<string> ReadAll(IQueueCacheCursor cursor)
    {
        var texts = new List<string>();
        while (cursor.MoveNextWithResult().Kind == QueueCacheCursorMoveResultKind.Success)
            texts.AddRange(cursor.GetCurrent(out _)!.GetEvents<string>().Select(e => e.Item1));
        return texts;
    }
}
