using System.Diagnostics;
using System.Globalization;

namespace SupportGrid.Bench;

/// <summary>What the <c>broadcast</c> scenario does: N customers in one channel, B navigations from its agent.</summary>
public sealed record BroadcastOptions
{
    /// <summary>Customers in the channel (N).</summary>
    public int Customers { get; init; } = 10;

    /// <summary>Navigations measured, after <see cref="WarmupBroadcasts"/>.</summary>
    public int Broadcasts { get; init; } = 100;

    public int WarmupBroadcasts { get; init; }

    /// <summary>Time from the start of one navigation to the start of the next (when the previous one has reached everyone).</summary>
    public TimeSpan Interval { get; init; } = TimeSpan.FromMilliseconds(50);

    public int SetupConcurrency { get; init; } = 32;

    /// <summary>How long one navigation may take to reach every customer before it is counted as incomplete.</summary>
    public TimeSpan DeliveryTimeout { get; init; } = TimeSpan.FromSeconds(10);
}

/// <summary>Outcome of one <c>broadcast</c> run. <see cref="Last"/>: from the start of the agent's call to the moment the
/// last of the N customers received the navigation; <see cref="Each"/>: the same for every single delivery.</summary>
public sealed record BroadcastResult(
    string Target,
    int Customers,
    int Broadcasts,
    long Expected,
    long Delivered,
    int Duplicates,
    int Incomplete,
    LatencySummary Last,
    LatencySummary Each,
    double SetupSeconds,
    string? FirstError)
{
    public bool ExactlyOnce => Delivered == Expected && Duplicates == 0 && Incomplete == 0 && FirstError is null;
}

/// <summary>How the broadcast scenario talks to one kind of server: an agent and N customers in one channel.</summary>
public interface IBroadcastDriver : IAsyncDisposable
{
    /// <summary>The page every navigation leads to; the scenario appends <c>?b={number}&amp;t={timestamp}</c>. For SupportGrid
    /// it must be on an origin the site follows (the customers then get <c>follow: true</c>, as a real tour would).</summary>
    string PageUrl { get; }

    /// <summary>Connects the agent (and, where the server needs a chat first, makes it); called before any customer.</summary>
    Task ConnectAgentAsync(CancellationToken cancellationToken);

    /// <summary>Connects customer <paramref name="index"/> and puts it in the channel; <paramref name="onNavigate"/> gets
    /// every navigation URL it receives, on the client's receive thread.</summary>
    Task ConnectCustomerAsync(int index, Action<string> onNavigate, CancellationToken cancellationToken);

    /// <summary>The agent sends every customer of the channel to <paramref name="url"/>; completes when the server answers.</summary>
    Task NavigateAsync(string url, CancellationToken cancellationToken);
}

/// <summary>
/// <c>broadcast</c>: one agent, N customers in one channel; the agent sends the channel's customers to a page B times,
/// one navigation at a time. The URL carries the navigation's number and the sender's timestamp, so each customer's
/// client (same process, same monotonic clock) measures its own delivery, and the N-th delivery closes the navigation.
/// </summary>
public sealed class BroadcastScenario
{
    private readonly BroadcastOptions _options;
    private readonly IBroadcastDriver _driver;
    private readonly int _total;
    private readonly int[] _received;
    private readonly int[] _perBroadcast;
    private readonly TaskCompletionSource[] _complete;
    private readonly LatencyRecorder _last = new();
    private readonly LatencyRecorder _each = new();
    private long _delivered;
    private int _duplicates;

    private BroadcastScenario(BroadcastOptions options, IBroadcastDriver driver)
    {
        if (options.Customers < 1 || options.Broadcasts < 1)
            throw new ArgumentException("Customers and Broadcasts must be positive.", nameof(options));
        _options = options;
        _driver = driver;
        _total = options.WarmupBroadcasts + options.Broadcasts;
        _received = new int[_total * options.Customers];
        _perBroadcast = new int[_total];
        _complete = [.. Enumerable.Range(0, _total).Select(_ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously))];
    }

    /// <summary>Runs the scenario once. <c>log</c> gets the lines worth keeping (phases, problems); <c>status</c>, when
    /// given, gets the progress twice a second for a live display.</summary>
    public static async Task<BroadcastResult> RunAsync(string target, BroadcastOptions options, IBroadcastDriver driver, Action<string>? log = null,
        CancellationToken cancellationToken = default, Action<string>? status = null)
    {
        await using (driver)
            return await new BroadcastScenario(options, driver).RunAsync(target, log ?? (_ => { }), status, cancellationToken);
    }

    private async Task<BroadcastResult> RunAsync(string target, Action<string> log, Action<string>? status, CancellationToken cancellationToken)
    {
        var setup = Stopwatch.StartNew();
        var customersIn = 0;
        var current = 0;
        using var ticker = Ticker.Start(status, () => setup.IsRunning
            ? $"set-up: {Volatile.Read(ref customersIn)}/{_options.Customers} customers in the channel"
            : $"navigation {Volatile.Read(ref current)}/{_total}, {Interlocked.Read(ref _delivered)} deliveries");
        await _driver.ConnectAgentAsync(cancellationToken);
        await Parallel.ForAsync(0, _options.Customers, new ParallelOptions { MaxDegreeOfParallelism = _options.SetupConcurrency, CancellationToken = cancellationToken },
            async (i, ct) =>
            {
                await _driver.ConnectCustomerAsync(i, url => OnNavigate(i, url), ct);
                Interlocked.Increment(ref customersIn);
            });
        setup.Stop();
        log($"{_options.Customers} customers in the channel after {setup.Elapsed.TotalSeconds:F1} s; {_total} navigations");

        string? firstError = null;
        var incomplete = 0;
        var ticksPerBroadcast = (long)(_options.Interval.TotalSeconds * Stopwatch.Frequency);
        var start = Stopwatch.GetTimestamp();
        for (var b = 0; b < _total; b++)
        {
            Volatile.Write(ref current, b + 1);
            var due = start + b * ticksPerBroadcast;
            await Pacing.DelayUntilAsync(due, cancellationToken);
            var sentAt = Stopwatch.GetTimestamp();
            try
            {
                await _driver.NavigateAsync(string.Create(CultureInfo.InvariantCulture, $"{_driver.PageUrl}?b={b}&t={sentAt}"), cancellationToken);
            }
            catch (Exception ex)
            {
                firstError ??= $"Navigate: {ex.Message}";
            }
            if (await Task.WhenAny(_complete[b].Task, Task.Delay(_options.DeliveryTimeout, cancellationToken)) != _complete[b].Task)
                incomplete++;
        }
        if (incomplete > 0)
            log($"{incomplete} navigations did not reach every customer within {_options.DeliveryTimeout.TotalSeconds} s");
        return new BroadcastResult(target, _options.Customers, _options.Broadcasts, (long)_total * _options.Customers,
            Interlocked.Read(ref _delivered), _duplicates, incomplete, _last.Summary(), _each.Summary(),
            Math.Round(setup.Elapsed.TotalSeconds, 2), firstError);
    }

    private void OnNavigate(int customer, string url)
    {
        var receivedAt = Stopwatch.GetTimestamp();
        var query = url.AsSpan(url.IndexOf('?') + 1);
        var amp = query.IndexOf("&t=");
        if (!query.StartsWith("b=") || amp < 0
            || !int.TryParse(query[2..amp], NumberStyles.None, CultureInfo.InvariantCulture, out var b)
            || !long.TryParse(query[(amp + 3)..], NumberStyles.None, CultureInfo.InvariantCulture, out var sentAt)
            || b >= _total)
        {
            return;
        }
        if (Interlocked.Increment(ref _received[b * _options.Customers + customer]) > 1)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        Interlocked.Increment(ref _delivered);
        var measured = b >= _options.WarmupBroadcasts;
        if (measured)
            _each.Record(sentAt, receivedAt);
        if (Interlocked.Increment(ref _perBroadcast[b]) == _options.Customers)
        {
            if (measured)
                _last.Record(sentAt, receivedAt);
            _complete[b].TrySetResult();
        }
    }
}
