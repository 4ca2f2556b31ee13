using System.Collections.Concurrent;
using System.Diagnostics;
using System.Threading.Channels;

namespace SupportGrid.Bench;

/// <summary>What the <c>route</c> scenario does: customers arriving at a fixed rate, agents accepting at once.</summary>
public sealed record RouteOptions
{
    /// <summary>Base address of the deployment, e.g. <c>http://127.0.0.1:5090</c>.</summary>
    public required Uri Target { get; init; }

    public ChatProtocol Protocol { get; init; } = ChatProtocol.SignalR;

    /// <summary>Arrivals per second (R), on a fixed schedule (open loop: an arrival never waits for an earlier one).</summary>
    public double Rate { get; init; } = 10;

    /// <summary>Arrivals measured, after <see cref="WarmupCustomers"/>.</summary>
    public int Customers { get; init; } = 100;

    /// <summary>Arrivals first, on the same schedule, checked but left out of the latency figures.</summary>
    public int WarmupCustomers { get; init; }

    public string Site { get; init; } = "demo";
    public string Queue { get; init; } = "sales";

    /// <summary>Agents the deployment was configured with; the first <see cref="AgentsSignedIn"/> of them sign in.</summary>
    public required BenchAgents Agents { get; init; }

    /// <summary>Bench agents signed in and available (0: all of <see cref="Agents"/>).</summary>
    public int AgentsSignedIn { get; init; }

    /// <summary>Customer connections opened ahead of their arrival (the connection is not what is measured), at most
    /// <see cref="ConnectConcurrency"/> opening at once. 0: one second of arrivals, at least 8.</summary>
    public int ConnectAhead { get; init; }

    public int ConnectConcurrency { get; init; } = 32;

    /// <summary>Customers already waiting in the queue before the first arrival (<see cref="Backlog"/>): each waits for an
    /// account manager who never signs in, so the arrivals are routed past them. SupportGrid only; the deployment must
    /// know them (<c>bench agents-env --waiting</c>, <c>BENCH_WAITING</c> in <c>bench/run.sh</c>).</summary>
    public int Waiting { get; init; }

    /// <summary>Customer connections open through the run that never start a chat: the control for <see cref="Waiting"/>
    /// (what the backlog's open connections cost, apart from their place in the queue).</summary>
    public int Idle { get; init; }

    /// <summary>When set, <see cref="Waiting"/> and <see cref="Idle"/> are held by a process of their own under <c>nice -n</c>
    /// this value (<see cref="BacklogProcess"/>): their clients' work off the measuring tool's cores, as if on other machines.</summary>
    public int? BacklogNice { get; init; }

    /// <summary>The site's identity secret, to sign the backlog's customer ids.</summary>
    public string IdentitySecret { get; init; } = Backlog.DemoSecret;

    /// <summary>How long after its arrival a customer may wait for <c>AgentJoined</c> before it counts as failed.</summary>
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>The target's process, when it runs on this machine: its CPU time per routed chat is reported.</summary>
    public int? TargetPid { get; init; }
}

/// <summary>Outcome of one <c>route</c> run. <see cref="ToOffer"/>: from just before the customer's <c>StartChat</c> to the
/// moment an agent's client receives the <c>Offer</c> for that session; <see cref="ToConnected"/>: to the customer's
/// <c>AgentJoined</c>; <see cref="StartAnswer"/>: to <c>StartChat</c>'s answer.</summary>
public sealed record RouteResult(
    double TargetRate,
    double AchievedRate,
    int Agents,
    int Arrived,
    int Offered,
    int Connected,
    int Failed,
    LatencySummary ToOffer,
    LatencySummary ToConnected,
    LatencySummary StartAnswer,
    double MaxArrivalLagMs,
    double Seconds,
    string? FirstError,
    int Waiting = 0,
    int BacklogOffered = 0,
    int Idle = 0,
    double? TargetCpuMsPerChat = null,
    double? ToolCpuMsPerChat = null)
{
    /// <summary>Every arrival was offered to an agent and connected.</summary>
    public bool AllConnected => Failed == 0 && Connected == Arrived && Offered == Arrived && BacklogOffered == 0;
}

/// <summary>
/// <c>route</c>: customers arrive at rate R; each calls <c>StartChat</c> on a connection opened beforehand; signed-in bench
/// agents accept every offer at once; a customer ends its chat as soon as it has <c>AgentJoined</c>, so the agents'
/// capacity frees up and the run measures routing, not capacity. Offers are matched to arrivals by session id
/// (<c>StartChat</c> returns it, <c>Offer</c> carries it); the offer may reach the agent before <c>StartChat</c> answers,
/// so both sides only record timestamps and the latencies are computed at the end.
/// </summary>
public sealed class RouteScenario
{
    private readonly RouteOptions _options;
    private readonly Action<string> _log;
    private readonly Action<string>? _status;
    private readonly IChatWire _wire;
    private readonly int _total;
    private readonly Task<IChatCustomer>[] _connections;
    private readonly long[] _startAt, _answeredAt, _joinedAt;
    private readonly Guid[] _sessions;
    private readonly ConcurrentDictionary<Guid, long> _offerAt = new();
    private readonly List<IChatAgent> _agents = [];
    private IReadOnlyList<IChatCustomer> _backlog = [];
    private IReadOnlyList<IChatCustomer> _idle = [];
    private BacklogProcess? _backlogProcess;
    private IReadOnlySet<Guid> _backlogSessions = new HashSet<Guid>();
    private readonly SemaphoreSlim _ahead, _connecting;
    private readonly TaskCompletionSource _allDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _arrived, _connected, _failed, _done;
    private string? _firstError;

    private RouteScenario(RouteOptions options, Action<string>? log, Action<string>? status)
    {
        if (options.Customers < 1 || options.Rate <= 0)
            throw new ArgumentException("Customers and Rate must be positive.", nameof(options));
        _options = options;
        _log = log ?? (_ => { });
        _status = status;
        _wire = ChatWire.For(options.Protocol, options.Target);
        _total = options.WarmupCustomers + options.Customers;
        _connections = new Task<IChatCustomer>[_total];
        _startAt = new long[_total];
        _answeredAt = new long[_total];
        _joinedAt = new long[_total];
        _sessions = new Guid[_total];
        _ahead = new SemaphoreSlim(options.ConnectAhead > 0 ? options.ConnectAhead : Math.Max(8, (int)Math.Ceiling(options.Rate)));
        _connecting = new SemaphoreSlim(options.ConnectConcurrency);
    }

    /// <summary>Runs the scenario once. <c>log</c> gets the lines worth keeping (phases, problems); <c>status</c>, when
    /// given, gets the progress twice a second for a live display.</summary>
    public static async Task<RouteResult> RunAsync(RouteOptions options, Action<string>? log = null, CancellationToken cancellationToken = default, Action<string>? status = null)
    {
        var scenario = new RouteScenario(options, log, status);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        try
        {
            return await scenario.RunAsync(stop.Token);
        }
        finally
        {
            await stop.CancelAsync();
            await scenario.TearDownAsync();
            scenario._wire.Dispose();
        }
    }

    private async Task<RouteResult> RunAsync(CancellationToken cancellationToken)
    {
        var agentCount = _options.AgentsSignedIn > 0 ? Math.Min(_options.AgentsSignedIn, _options.Agents.Count) : _options.Agents.Count;
        if (_options.BacklogNice is { } nice && (_options.Waiting > 0 || _options.Idle > 0))
        {
            _backlogProcess = await BacklogProcess.StartAsync(_options, nice, cancellationToken);
            _backlogSessions = _backlogProcess.Held.Sessions.ToHashSet();
            _log($"backlog process (nice {nice}): {_backlogSessions.Count} waiting, {_backlogProcess.Held.Idle} idle connections");
        }
        else
        {
            if (_options.Waiting > 0)
                (_backlog, _backlogSessions) = await Backlog.FillAsync(_wire, _options.Site, _options.Queue, _options.Waiting, _options.IdentitySecret, _options.ConnectConcurrency, _log, cancellationToken);
            if (_options.Idle > 0)
                _idle = await Backlog.ConnectIdleAsync(_wire, _options.Idle, _options.ConnectConcurrency, _log, cancellationToken);
        }
        for (var n = 0; n < agentCount; n++)
            await SignInAgentAsync(n, cancellationToken);
        _log($"{agentCount} agents available (capacity {_options.Agents.Capacity}); {_total} customers arriving at {_options.Rate}/s");
        using var ticker = Ticker.Start(_status, () =>
            $"arrived {Volatile.Read(ref _arrived)}/{_total}, offered {_offerAt.Count}, connected {Volatile.Read(ref _connected)}, failed {Volatile.Read(ref _failed)}");

        var opening = OpenConnectionsAsync(cancellationToken);
        // CPU from the first arrival until every chat is routed (and ended): all of it the routing of these arrivals.
        var targetCpuBefore = MachineInfo.CpuSeconds(_options.TargetPid);
        var toolCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var ticksPerArrival = Stopwatch.Frequency / _options.Rate;
        var arrivals = new Task[_total];
        var start = Stopwatch.GetTimestamp();
        for (var k = 0; k < _total; k++)
        {
            var due = start + (long)(k * ticksPerArrival);
            await Pacing.DelayUntilAsync(due, cancellationToken);
            arrivals[k] = ArriveAsync(k, due, cancellationToken);
        }
        await Task.WhenAll(arrivals);
        var arrivalSeconds = Stopwatch.GetElapsedTime(start, _startAt[^1]).TotalSeconds;
        await opening;
        if (await Task.WhenAny(_allDone.Task, Task.Delay(_options.ConnectTimeout, cancellationToken)) != _allDone.Task)
            _log($"{_total - Volatile.Read(ref _done)} customers had no agent {_options.ConnectTimeout.TotalSeconds} s after the last arrival");
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        var targetCpu = MachineInfo.CpuSeconds(_options.TargetPid) - targetCpuBefore;
        var toolCpu = (Process.GetCurrentProcess().TotalProcessorTime - toolCpuBefore).TotalSeconds;

        var toOffer = new LatencyRecorder();
        var toConnected = new LatencyRecorder();
        var answer = new LatencyRecorder();
        var offered = 0;
        long maxLag = 0;
        for (var k = 0; k < _total; k++)
        {
            if (_startAt[k] == 0)
                continue;
            maxLag = Math.Max(maxLag, _startAt[k] - (start + (long)(k * ticksPerArrival)));
            var hasOffer = _sessions[k] != Guid.Empty && _offerAt.TryGetValue(_sessions[k], out var offerAt);
            offered += hasOffer ? 1 : 0;
            if (k < _options.WarmupCustomers)
                continue;
            if (hasOffer)
                toOffer.Record(_startAt[k], _offerAt[_sessions[k]]);
            if (Volatile.Read(ref _joinedAt[k]) is var joined and not 0)
                toConnected.Record(_startAt[k], joined);
            if (_answeredAt[k] != 0)
                answer.Record(_startAt[k], _answeredAt[k]);
        }
        var connected = Volatile.Read(ref _connected);
        var arrived = Volatile.Read(ref _arrived);
        return new RouteResult(_options.Rate, Math.Round(arrivalSeconds > 0 ? (_total - 1) / arrivalSeconds : _options.Rate, 1), agentCount,
            arrived, offered, connected, arrived - connected, toOffer.Summary(), toConnected.Summary(), answer.Summary(),
            Math.Round(maxLag * 1000.0 / Stopwatch.Frequency, 3), Math.Round(seconds, 2), _firstError, _backlogProcess?.Held.Sessions.Count ?? _backlog.Count, _backlogSessions.Count(_offerAt.ContainsKey),
            _backlogProcess?.Held.Idle ?? _idle.Count(c => c.IsConnected),
            targetCpu is { } cpu ? Math.Round(cpu * 1000 / _total, 2) : null, Math.Round(toolCpu * 1000 / _total, 2));
    }

    private async Task SignInAgentAsync(int n, CancellationToken cancellationToken)
    {
        var offers = Channel.CreateUnbounded<Guid>();
        // Handlers run on the connection's receive loop: record the time, hand the accept to a loop.
        var agent = await _wire.ConnectAgentAsync(_options.Agents.Id(n), _options.Agents.Password, new AgentEvents(
            sessionId =>
            {
                _offerAt.TryAdd(sessionId, Stopwatch.GetTimestamp());
                offers.Writer.TryWrite(sessionId);
            },
            (_, _) => { }), cancellationToken);
        _agents.Add(agent);
        _ = AcceptLoopAsync(agent, offers.Reader, cancellationToken);
        await agent.SetAvailableAsync(cancellationToken);
    }

    private async Task AcceptLoopAsync(IChatAgent agent, ChannelReader<Guid> offers, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var sessionId in offers.ReadAllAsync(cancellationToken))
            {
                try
                {
                    await agent.AcceptOfferAsync(sessionId, cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // offer_not_found / at_capacity: the queue offers the chat to another agent.
                    Error($"AcceptOffer: {ex.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Opens customer connections in arrival order, at most <c>ConnectAhead</c> before their arrival.</summary>
    private async Task OpenConnectionsAsync(CancellationToken cancellationToken)
    {
        for (var k = 0; k < _total; k++)
        {
            await _ahead.WaitAsync(cancellationToken);
            await _connecting.WaitAsync(cancellationToken);
            _connections[k] = ConnectAsync(k, cancellationToken);
        }
    }

    private async Task<IChatCustomer> ConnectAsync(int k, CancellationToken cancellationToken)
    {
        try
        {
            return await _wire.ConnectCustomerAsync(new CustomerEvents(() => OnAgentJoined(k), _ => { }), cancellationToken);
        }
        finally
        {
            _connecting.Release();
        }
    }

    private async Task ArriveAsync(int k, long due, CancellationToken cancellationToken)
    {
        IChatCustomer? customer = null;
        try
        {
            // The connection is normally open long before; if the tool fell behind, the lag shows in MaxArrivalLagMs.
            while (Volatile.Read(ref _connections[k]) is null)
                await Task.Delay(1, cancellationToken);
            customer = await _connections[k];
            _ahead.Release();
            Interlocked.Increment(ref _arrived);
            _startAt[k] = Stopwatch.GetTimestamp();
            var started = await customer.StartChatAsync(new StartChatInput(_options.Site, _options.Queue, $"Customer {k}", null, null, "http://127.0.0.1/demo/", "bench"), cancellationToken);
            _answeredAt[k] = Stopwatch.GetTimestamp();
            _sessions[k] = started.SessionId;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            if (customer is null)
            {
                _ahead.Release();
                Interlocked.Increment(ref _arrived);
                _startAt[k] = due;
            }
            Error($"StartChat: {ex.Message}");
            Finish(k, connected: false);
        }
    }

    /// <summary>Runs on the customer's receive loop: record, then end the chat off the loop.</summary>
    private void OnAgentJoined(int k)
    {
        if (Interlocked.CompareExchange(ref _joinedAt[k], Stopwatch.GetTimestamp(), 0) != 0)
            return;
        Interlocked.Increment(ref _connected);
        _ = EndAsync(k);
    }

    private async Task EndAsync(int k)
    {
        try
        {
            await (await _connections[k]).EndChatAsync();
        }
        catch (Exception ex)
        {
            Error($"EndChat: {ex.Message}");
        }
        Finish(k, connected: true);
    }

    private void Finish(int k, bool connected)
    {
        if (!connected)
            Interlocked.Increment(ref _failed);
        if (Interlocked.Increment(ref _done) == _total)
            _allDone.TrySetResult();
    }

    private void Error(string message) => Interlocked.CompareExchange(ref _firstError, message, null);

    private async Task TearDownAsync()
    {
        // Every customer connection closes (a customer still waiting ends its chat first), then the agents.
        await Parallel.ForAsync(0, _total, new ParallelOptions { MaxDegreeOfParallelism = _options.ConnectConcurrency }, async (k, _) =>
        {
            if (_connections[k] is not { } connection)
                return;
            IChatCustomer customer;
            try
            {
                customer = await connection;
            }
            catch (Exception)
            {
                return; // never opened: counted as failed where it arrived
            }
            if (customer.IsConnected && _sessions[k] != Guid.Empty && Volatile.Read(ref _joinedAt[k]) == 0)
                await customer.EndChatAsync();
            await customer.DisposeAsync();
        });
        foreach (var agent in _agents)
            await agent.DisposeAsync();
        await Backlog.DisposeAsync(_backlog, _options.ConnectConcurrency);
        await Backlog.DisposeAsync(_idle, _options.ConnectConcurrency, endChats: false);
        if (_backlogProcess is not null)
            await _backlogProcess.DisposeAsync();
    }
}
