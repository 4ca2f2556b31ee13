using Microsoft.Extensions.Logging;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace SupportGrid.Grains.Streams;

/*
 * Orleans' simple queue cache, with one failure turned into a recovery
 * --------------------------------------------------------------------
 * A subscriber that joins a stream already flowing is handed to the pulling agent without waiting; until the agent has
 * shaken hands with it (a call to the subscriber), the agent remembers the token of the first event it saw for it. The
 * simple cache purges at once every event no cursor stands on, and a cursor that is not yet placed stands on nothing. So
 * under load (the handshake slower than a read of the queue) the remembered event is gone when the cursor is placed:
 * the cursor waits, unplaced, for that token, and the agent's next read asks it to refresh. SimpleQueueCache then
 * throws QueueCacheMissException out of the pulling agent's read loop (Orleans 10.4.2: PersistentStreamPullingAgent,
 * StartInactiveCursors), on every read from then on: that subscriber never receives anything, and the events of the
 * other streams of the read are not started either. It showed as an agent console that never saw the customer's first
 * message after it accepted a chat.
 *
 * Here the refresh that would throw places the cursor at the oldest event still cached instead (what was purged before
 * is gone either way: channel events carry sequence numbers and every subscriber reads the missed ones from the channel
 * grain once its subscription receives; see ChannelFanout). Everything else is SimpleQueueCache's own behaviour.
 */

/// <summary>Creates a <see cref="ChannelQueueCache"/> per queue.</summary>
public sealed class ChannelQueueAdapterCache(SimpleQueueCacheOptions options, string providerName, ILoggerFactory loggers) : IQueueAdapterCache
{
    public IQueueCache CreateQueueCache(QueueId queueId) => new ChannelQueueCache(
        new SimpleQueueCache(options.CacheSize, loggers.CreateLogger($"{typeof(SimpleQueueCache).FullName}.{providerName}.{queueId}")),
        loggers.CreateLogger<ChannelQueueCache>());
}

/// <summary>A <see cref="SimpleQueueCache"/> whose cursors recover from a refresh to an event already purged (see above).</summary>
public sealed partial class ChannelQueueCache(SimpleQueueCache inner, ILogger<ChannelQueueCache> logger) : IQueueCache
{
    // Tokens of the cached events, oldest first: the cache adds newest-first and purges oldest-first.
    private readonly LinkedList<StreamSequenceToken> _tokens = new();

    /// <summary>Number of cursors that recovered from a purged token (for tests and diagnostics).</summary>
    public int Recoveries { get; private set; }

    public int GetMaxAddCount() => inner.GetMaxAddCount();

    public void AddToCache(IList<IBatchContainer> messages)
    {
        inner.AddToCache(messages);
        foreach (var message in messages)
            _tokens.AddLast(message.SequenceToken);
    }

    public bool TryPurgeFromCache(out IList<IBatchContainer> purgedItems)
    {
        if (!inner.TryPurgeFromCache(out purgedItems!))
            return false;
        // The cache drains from the oldest end: everything up to the newest purged token is gone.
        StreamSequenceToken? newest = null;
        foreach (var item in purgedItems)
            if (newest is null || item.SequenceToken.Newer(newest))
                newest = item.SequenceToken;
        while (newest is not null && _tokens.First is { } first && !first.Value.Newer(newest))
            _tokens.RemoveFirst();
        return true;
    }

    public QueueCacheCursorResult<IQueueCacheCursor> TryGetCacheCursor(StreamId streamId, StreamSequenceToken? token)
    {
        var result = Inner.TryGetCacheCursor(streamId, token);
        return result.Kind == QueueCacheCursorResultKind.Success
            ? QueueCacheCursorResult<IQueueCacheCursor>.FromCursor(new Cursor(this, streamId, result.Cursor!))
            : result;
    }

    [Obsolete("Use TryGetCacheCursor instead.")]
    public IQueueCacheCursor GetCacheCursor(StreamId streamId, StreamSequenceToken? token) =>
        new Cursor(this, streamId, Inner.GetCacheCursor(streamId, token));

    private IQueueCache Inner => inner;

    public bool IsUnderPressure() => inner.IsUnderPressure();

    /// <summary>A cursor at the oldest cached event (or, if that is gone too, at the newest).</summary>
    private IQueueCacheCursor OldestCursor(StreamId streamId, StreamSequenceToken missed)
    {
        Recoveries++;
        LogRecovered(logger, streamId, missed);
        var oldest = Inner.TryGetCacheCursor(streamId, _tokens.First?.Value);
        return oldest.Kind == QueueCacheCursorResultKind.Success ? oldest.Cursor! : Inner.TryGetCacheCursor(streamId, null).Cursor!;
    }

    private sealed class Cursor(ChannelQueueCache cache, StreamId streamId, IQueueCacheCursor inner) : IQueueCacheCursor
    {
        private IQueueCacheCursor _inner = inner;

        public IBatchContainer? GetCurrent(out Exception? exception) => _inner.GetCurrent(out exception);

        [Obsolete("Use MoveNextWithResult instead.")]
        public bool MoveNext() => _inner.MoveNext();

        public QueueCacheCursorMoveResult MoveNextWithResult() => _inner.MoveNextWithResult();

        public void Refresh(StreamSequenceToken token)
        {
            try
            {
                _inner.Refresh(token);
            }
            catch (QueueCacheMissException)
            {
                _inner.Dispose();
                _inner = cache.OldestCursor(streamId, token);
            }
        }

        public void RecordDeliveryFailure() => _inner.RecordDeliveryFailure();

        public void Dispose() => _inner.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "A cursor of stream {StreamId} waited for an event already purged (near {Token}); it restarts at the oldest cached event")]
    private static partial void LogRecovered(ILogger logger, StreamId streamId, StreamSequenceToken token);
}
