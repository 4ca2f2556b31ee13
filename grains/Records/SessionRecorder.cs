using System.Threading.Channels;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace SupportGrid.Grains.Records;

/// <summary>
/// Takes record commands from grains without blocking them and writes them to the store in batches, in order.
/// A failed batch is retried (with a pause) rather than dropped, so a record is never silently lost while the process
/// lives; what is queued when the process dies is lost (milliseconds of events).
/// </summary>
public sealed partial class SessionRecorder(ISessionRecordStore store, ILogger<SessionRecorder> logger) : BackgroundService
{
    private const int MaxBatch = 500;
    private readonly Channel<object> _queue = System.Threading.Channels.Channel.CreateUnbounded<object>(new UnboundedChannelOptions { SingleReader = true });

    /// <summary>Queues a command. Never blocks.</summary>
    public void Record(RecordCommand command) => _queue.Writer.TryWrite(command);

    /// <summary>Queues a command and completes once it is written: for the steps a record must never lack (its start and its
    /// end), so that a silo dying right after cannot lose them.</summary>
    public Task RecordDurablyAsync(RecordCommand command)
    {
        Record(command);
        return FlushAsync();
    }

    /// <summary>Completes once everything queued before the call is written. Once the recorder has stopped (the silo is
    /// stopping) it fails at once as a call to a stopping silo does (<see cref="SiloUnavailableException"/>): a grain waiting
    /// for a durable step fails its call, which the gateway and clients try again (on another silo), instead of waiting for
    /// a write that will never come.</summary>
    public Task FlushAsync()
    {
        var flushed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite(flushed) ? flushed.Task : Task.FromException(Stopping());
    }

    private static SiloUnavailableException Stopping() =>
        new("This silo stopped before the usage record was written; try again in a moment.");

    public override async Task StartAsync(CancellationToken cancellationToken)
    {
        await store.InitializeAsync(cancellationToken);
        await base.StartAsync(cancellationToken);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var batch = new List<RecordCommand>(MaxBatch);
        var waiters = new List<TaskCompletionSource>();
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                while (batch.Count < MaxBatch && _queue.Reader.TryRead(out var item))
                {
                    if (item is RecordCommand command)
                        batch.Add(command);
                    else
                        waiters.Add((TaskCompletionSource)item);
                }
                await WriteWithRetryAsync(batch, stoppingToken);
                batch.Clear();
                foreach (var waiter in waiters)
                    waiter.TrySetResult();
                waiters.Clear();
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopped mid-write: whoever waits for this batch must not believe it was written.
            foreach (var waiter in waiters)
                waiter.TrySetException(Stopping());
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // Write what is queued before the host stops. A durable caller waiting here is answered only after its command is
        // written, and fails if it was not: telling it "written" first would let a grain mark a session ended whose end
        // never reached the store (seen when a silo is killed).
        _queue.Writer.TryComplete();
        var rest = new List<RecordCommand>();
        var waiters = new List<TaskCompletionSource>();
        while (_queue.Reader.TryRead(out var item))
        {
            if (item is RecordCommand command)
                rest.Add(command);
            else
                waiters.Add((TaskCompletionSource)item);
        }
        try
        {
            if (rest.Count > 0)
                await store.WriteAsync(rest, cancellationToken);
            foreach (var waiter in waiters)
                waiter.TrySetResult();
        }
        catch (Exception e)
        {
            // An ungraceful stop: the steps a record must have were written durably already; these others are lost.
            LogLostOnStop(logger, rest.Count, e);
            foreach (var waiter in waiters)
                waiter.TrySetException(Stopping());
        }
        await base.StopAsync(cancellationToken);
    }

    private async Task WriteWithRetryAsync(List<RecordCommand> batch, CancellationToken stoppingToken)
    {
        if (batch.Count == 0)
            return;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await store.WriteAsync(batch, stoppingToken);
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                LogWriteFailed(logger, batch.Count, attempt, e);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(5000, 100 * attempt)), stoppingToken);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping abruptly: {Count} queued usage-record steps were not written")]
    private static partial void LogLostOnStop(ILogger logger, int count, Exception exception);

    [LoggerMessage(Level = LogLevel.Error, Message = "Writing {Count} usage records failed (attempt {Attempt}); retrying")]
    private static partial void LogWriteFailed(ILogger logger, int count, int attempt, Exception exception);
}
