using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Orleans.Concurrency;
using Orleans.Configuration;
using Orleans.Providers.Streams.Common;
using Orleans.Streams;

namespace SupportGrid.Grains.Streams;

/*
 * A stream queue that answers as soon as there is something to read
 * ------------------------------------------------------------------
 * Orleans' memory stream provider keeps each queue in a grain and its pulling agents poll that grain on a timer; the
 * period is the latency floor of every broadcast (10 ms polling measured p50 5 ms per hop here, 1 ms polling costs 10% of
 * a core while idle). This provider is the same design with one change: the pulling agent's read is a long poll. The
 * queue grain is reentrant; a Dequeue that finds the queue empty waits until an Enqueue arrives (or LongPoll passes) and
 * returns at once with what arrived. The pulling agent keeps reading while reads return data, so a busy queue is drained
 * continuously and an idle one costs one call per LongPoll.
 *
 * Everything else is Orleans' persistent-stream machinery (pulling agents balanced over silos, pub-sub, cursors, the
 * simple queue cache). Like memory streams, the queue is in memory: events in flight are lost with the silo holding
 * the queue grain, which is why channel events carry sequence numbers and clients fetch what they missed.
 */

/// <summary>One stream queue, held in memory.</summary>
public interface IChannelQueueGrain : IGrainWithIntegerCompoundKey
{
    Task EnqueueAsync(ChannelQueueMessage message);

    /// <summary>A pulling agent starts reading this queue; from now on only it is served (see <see cref="DequeueAsync"/>).</summary>
    Task RegisterReaderAsync(Guid reader);

    /// <summary>Up to <paramref name="maxCount"/> messages; waits up to <paramref name="wait"/> for the first if the queue is
    /// empty. A reader that is not the latest registered gets nothing: while queues move between silos two pulling agents
    /// read for a moment, and what the outgoing one took would never be delivered.</summary>
    Task<List<ChannelQueueMessage>> DequeueAsync(int maxCount, TimeSpan wait, Guid reader);
}

/// <summary>Events for one stream, as written by one producer call.</summary>
[GenerateSerializer, Alias("sg.ChannelQueueMessage")]
public sealed class ChannelQueueMessage(StreamId streamId, List<object> events)
{
    [Id(0)] public StreamId StreamId { get; } = streamId;
    [Id(1)] public List<object> Events { get; } = events;
    [Id(2)] public long SequenceNumber { get; set; }
}

[Reentrant]
public sealed class ChannelQueueGrain : Grain, IChannelQueueGrain
{
    /// <summary>Refuses writes beyond this many unread messages (as the memory provider does) instead of growing without bound.</summary>
    public const int MaxQueued = 16384;

    private readonly Queue<ChannelQueueMessage> _queue = new();
    private TaskCompletionSource? _arrived;
    private long _sequence = DateTime.UtcNow.Ticks;
    private Guid _reader;

    public Task RegisterReaderAsync(Guid reader)
    {
        _reader = reader;
        _arrived?.TrySetResult(); // an outgoing reader's long poll ends (empty-handed)
        _arrived = null;
        return Task.CompletedTask;
    }

    public Task EnqueueAsync(ChannelQueueMessage message)
    {
        if (_queue.Count >= MaxQueued)
            throw new InvalidOperationException($"The stream queue is full ({MaxQueued} unread messages); the readers are not keeping up.");
        message.SequenceNumber = _sequence++;
        _queue.Enqueue(message);
        _arrived?.TrySetResult();
        _arrived = null;
        return Task.CompletedTask;
    }

    public async Task<List<ChannelQueueMessage>> DequeueAsync(int maxCount, TimeSpan wait, Guid reader)
    {
        if (_reader == Guid.Empty)
            _reader = reader; // this activation lost the registration (a new activation after a silo failure)
        if (reader != _reader)
            return [];
        if (_queue.Count == 0 && wait > TimeSpan.Zero)
        {
            _arrived ??= new TaskCompletionSource();
            await Task.WhenAny(_arrived.Task, Task.Delay(wait));
        }
        if (reader != _reader)
            return [];
        var count = maxCount < 0 ? _queue.Count : Math.Min(maxCount, _queue.Count);
        var batch = new List<ChannelQueueMessage>(count);
        for (var i = 0; i < count; i++)
            batch.Add(_queue.Dequeue());
        return batch;
    }
}

/// <summary>
/// A <see cref="ChannelQueueMessage"/> as the pulling agent and its cache see it. In a cluster it travels from the silo
/// reading the queue to the gateways (other processes), so it is serializable.
/// </summary>
[GenerateSerializer, Alias("sg.ChannelBatchContainer")]
public sealed class ChannelBatchContainer : IBatchContainer
{
    public ChannelBatchContainer(ChannelQueueMessage message)
    {
        Message = message;
        Token = new EventSequenceTokenV2(message.SequenceNumber);
    }

    [Id(0)] public ChannelQueueMessage Message { get; }

    [Id(1)] public EventSequenceTokenV2 Token { get; }

    public StreamId StreamId => Message.StreamId;

    public StreamSequenceToken SequenceToken => Token;

    public IEnumerable<Tuple<T, StreamSequenceToken>> GetEvents<T>() =>
        Message.Events.OfType<T>().Select((e, i) => Tuple.Create(e, (StreamSequenceToken)Token.CreateSequenceTokenForEvent(i)));

    public bool ImportRequestContext() => false;
}

/// <summary>Options of the channel stream provider.</summary>
public sealed class ChannelStreamOptions
{
    /// <summary>How long a pulling agent's read waits for the first message of an empty queue.</summary>
    public TimeSpan LongPoll { get; set; } = TimeSpan.FromMilliseconds(500);
}

/// <summary>Adapter factory of the long-polling stream provider (see the comment at the top of this file).</summary>
public sealed class ChannelQueueAdapterFactory(
    string name,
    IGrainFactory grains,
    HashRingStreamQueueMapperOptions mapperOptions,
    SimpleQueueCacheOptions cacheOptions,
    ChannelStreamOptions options,
    ILoggerFactory loggers) : IQueueAdapterFactory, IQueueAdapter
{
    private readonly HashRingBasedStreamQueueMapper _mapper = new(mapperOptions, name);
    private readonly ChannelQueueAdapterCache _cache = new(cacheOptions, name, loggers);
    private readonly Task<IStreamFailureHandler> _failureHandler = Task.FromResult<IStreamFailureHandler>(new NoOpStreamDeliveryFailureHandler());

    /// <summary>For <c>AddPersistentStreams</c> on a silo or a client.</summary>
    public static ChannelQueueAdapterFactory Create(IServiceProvider services, string name) => new(
        name,
        services.GetRequiredService<IGrainFactory>(),
        services.GetOptionsByName<HashRingStreamQueueMapperOptions>(name),
        services.GetOptionsByName<SimpleQueueCacheOptions>(name),
        services.GetService<IOptions<ChannelStreamOptions>>()?.Value ?? new ChannelStreamOptions(),
        services.GetRequiredService<ILoggerFactory>());

    public string Name => name;

    public bool IsRewindable => false;

    public StreamProviderDirection Direction => StreamProviderDirection.ReadWrite;

    [Obsolete("Use the overload which accepts a CancellationToken.")]
    public Task<IQueueAdapter> CreateAdapter() => Task.FromResult<IQueueAdapter>(this);

    public IQueueAdapterCache GetQueueAdapterCache() => _cache;

    public IStreamQueueMapper GetStreamQueueMapper() => _mapper;

    public Task<IStreamFailureHandler> GetDeliveryFailureHandler(QueueId queueId) => _failureHandler;

    public Task QueueMessageBatchAsync<T>(StreamId streamId, IEnumerable<T> events, StreamSequenceToken? token, Dictionary<string, object>? requestContext)
    {
        if (token is not null)
            throw new ArgumentException("This stream provider does not take sequence tokens from producers.", nameof(token));
        return Queue(_mapper.GetQueueForStream(streamId)).EnqueueAsync(new ChannelQueueMessage(streamId, events.Cast<object>().ToList()));
    }

    public IQueueAdapterReceiver CreateReceiver(QueueId queueId) => new Receiver(Queue(queueId), options.LongPoll);

    private IChannelQueueGrain Queue(QueueId queueId) =>
        grains.GetGrain<IChannelQueueGrain>(queueId.GetNumericId(), queueId.GetStringNamePrefix());

    private sealed class Receiver(IChannelQueueGrain queue, TimeSpan longPoll) : IQueueAdapterReceiver
    {
        private Task? _reading;
        private readonly Guid _id = Guid.NewGuid();

        public Task Initialize(TimeSpan timeout) => queue.RegisterReaderAsync(_id);

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount) => GetQueueMessagesAsync(maxCount, CancellationToken.None);

        public async Task<IList<IBatchContainer>> GetQueueMessagesAsync(int maxCount, CancellationToken cancellationToken)
        {
            var reading = queue.DequeueAsync(maxCount, longPoll, _id);
            _reading = reading;
            var messages = await reading;
            return messages.Select(m => (IBatchContainer)new ChannelBatchContainer(m)).ToList();
        }

        [Obsolete("Use the overload which accepts a CancellationToken.")]
        public Task MessagesDeliveredAsync(IList<IBatchContainer> messages) => Task.CompletedTask;

        public async Task Shutdown(TimeSpan timeout)
        {
            if (_reading is { } reading)
                await reading.WaitAsync(timeout).ContinueWith(_ => { }, TaskScheduler.Default);
        }
    }
}
