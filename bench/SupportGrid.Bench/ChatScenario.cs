using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Threading.Channels;

namespace SupportGrid.Bench;

/// <summary>What the <c>chat</c> scenario does: how many chats, how many messages at which total rate.</summary>
public sealed record ChatOptions
{
    /// <summary>Base address of the deployment, e.g. <c>http://127.0.0.1:5090</c>.</summary>
    public required Uri Target { get; init; }

    /// <summary>SignalR (SupportGrid, raw SignalR) or socket.io (the socket.io baseline).</summary>
    public ChatProtocol Protocol { get; init; } = ChatProtocol.SignalR;

    /// <summary>Concurrent chats (each one customer connection; agents hold up to their capacity each).</summary>
    public int Chats { get; init; } = 10;

    /// <summary>Total messages per second over all chats, sent open-loop (not waiting for answers).</summary>
    public double Rate { get; init; } = 100;

    /// <summary>Messages measured, after <see cref="WarmupMessages"/>.</summary>
    public int Messages { get; init; } = 1000;

    /// <summary>Messages sent first at the same rate, checked for delivery but left out of the latency figures.</summary>
    public int WarmupMessages { get; init; }

    public string Site { get; init; } = "demo";
    public string Queue { get; init; } = "sales";

    /// <summary>Agents the deployment was configured with (<see cref="BenchAgents.Settings"/>); enough of them for <see cref="Chats"/>.</summary>
    public required BenchAgents Agents { get; init; }

    /// <summary>Customers connecting and starting a chat at the same time during set-up.</summary>
    public int SetupConcurrency { get; init; } = 32;

    public TimeSpan SetupTimeout { get; init; } = TimeSpan.FromMinutes(2);

    /// <summary>How long after the last accept a customer may still be waiting for <c>AgentJoined</c> before it resumes.</summary>
    public TimeSpan JoinGrace { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>How long to wait, after the last send, for every message to arrive.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Every connection and agent sign-in comes from an address of its own (<c>X-Forwarded-For</c>; the target must
    /// have the bench's address as its known proxy), so that per-address limits treat them as separate shoppers.</summary>
    public bool DistinctAddresses { get; init; }

    /// <summary>Issue 8's attackers (<see cref="Attackers"/>) run from the first message sent until every message arrived.</summary>
    public bool Attack { get; init; }

    /// <summary>The target's process, for the RSS sampled during an attack.</summary>
    public int? TargetPid { get; init; }

    /// <summary>Run the attackers in a process of their own under <c>nice -n</c> this value (null: in this process).</summary>
    public int? AttackNice { get; init; }
}

/// <summary>Outcome of one <c>chat</c> run. Latencies are sender to receiver (the send call starts -> the peer's client
/// receives the event) and send to answer (the send call starts -> the server returns its sequence number).</summary>
public sealed record ChatResult(
    int Chats,
    int Agents,
    double TargetRate,
    double AchievedRate,
    int Sent,
    int SendErrors,
    int Delivered,
    int Duplicates,
    int Misrouted,
    int Lost,
    LatencySummary Latency,
    LatencySummary Ack,
    double SetupSeconds,
    double SendSeconds,
    double MaxSendLagMs,
    int MissedJoins,
    string? FirstError,
    AttackResult? Attack = null,
    LatencySummary? FromCustomers = null,
    LatencySummary? FromAgents = null,
    double? TargetCpuMsPerMessage = null,
    double? ToolCpuMsPerMessage = null)
{
    /// <summary>Every message sent arrived exactly once, at the right peer, and every send succeeded.</summary>
    public bool ExactlyOnce => SendErrors == 0 && Lost == 0 && Duplicates == 0 && Misrouted == 0 && Delivered == Sent;
}

/// <summary>
/// <c>chat</c>: C customers each in a chat with one of the bench agents, exchanging messages at a fixed total rate.
/// Message k goes in chat k mod C, from the customer on even rounds and from the agent on odd ones; its text carries k and
/// the sender's timestamp, so the receiving client computes the latency without a shared map (sender and receiver live
/// in this process and share the monotonic clock).
/// </summary>
public sealed class ChatScenario
{
    private const string Prefix = "bench:";

    private readonly ChatOptions _options;
    private readonly Action<string> _log;
    private readonly Action<string>? _status;
    private readonly IChatWire _wire;
    private readonly Chat[] _chats;
    private readonly int _total;
    private readonly int[] _received;
    private readonly LatencyRecorder _latency = new();
    private readonly LatencyRecorder _fromCustomers = new(), _fromAgents = new();
    private readonly LatencyRecorder _ack = new();
    private readonly ConcurrentDictionary<Guid, (Guid ChannelId, int Agent)> _accepted = new();
    private readonly ConcurrentDictionary<Guid, int> _chatByChannel = new();
    private readonly List<IChatAgent> _agents = [];
    private readonly TaskCompletionSource _allAccepted = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allJoined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _allDelivered = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _acceptedCount, _joinedCount, _delivered, _duplicates, _misrouted, _sendErrors, _sent;
    private string? _firstError;

    private ChatScenario(ChatOptions options, Action<string>? log, Action<string>? status)
    {
        if (options.Chats < 1 || options.Messages < 1 || options.Rate <= 0)
            throw new ArgumentException("Chats, Messages and Rate must be positive.", nameof(options));
        var needed = (options.Chats + options.Agents.Capacity - 1) / options.Agents.Capacity;
        if (options.Agents.Count < needed)
            throw new ArgumentException($"{options.Chats} chats need {needed} agents of capacity {options.Agents.Capacity}; only {options.Agents.Count} configured.", nameof(options));
        _options = options;
        _log = log ?? (_ => { });
        _status = status;
        _wire = ChatWire.For(options.Protocol, options.Target, options.DistinctAddresses);
        _chats = new Chat[options.Chats];
        _total = options.WarmupMessages + options.Messages;
        _received = new int[_total];
    }

    /// <summary>Runs the scenario once. <c>log</c> gets the lines worth keeping (phases, problems); <c>status</c>, when
    /// given, gets the progress twice a second for a live display.</summary>
    public static async Task<ChatResult> RunAsync(ChatOptions options, Action<string>? log = null, CancellationToken cancellationToken = default, Action<string>? status = null)
    {
        var scenario = new ChatScenario(options, log, status);
        try
        {
            return await scenario.RunAsync(cancellationToken);
        }
        finally
        {
            await scenario.TearDownAsync();
            scenario._wire.Dispose();
        }
    }

    private sealed class Chat(int index)
    {
        public int Index { get; } = index;
        public IChatCustomer? Customer { get; set; }
        public Guid SessionId { get; set; }
        public Guid ChannelId { get; set; }
        public string ResumeToken { get; set; } = "";
        public IChatAgent? Agent { get; set; }
        private int _joined;

        /// <summary>True the first time only.</summary>
        public bool MarkJoined() => Interlocked.Exchange(ref _joined, 1) == 0;
    }

    /// <summary>
    /// Every chat is accepted; every customer should have had <c>AgentJoined</c>. A customer whose agent accepted before
    /// the gateway had bound the customer's connection to its session never gets it, nor the chat's messages (product
    /// bug, see docs/benchmarks.md). Such a customer does what the widget does after any interruption: <c>Resume</c>.
    /// They are counted and reported, not hidden.
    /// </summary>
    private async Task<int> RecoverMissedJoinsAsync(CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(_allJoined.Task, Task.Delay(_options.JoinGrace, cancellationToken)) == _allJoined.Task)
            return 0;
        var missed = 0;
        foreach (var chat in _chats)
        {
            if (!chat.MarkJoined())
                continue;
            missed++;
            Interlocked.Increment(ref _joinedCount);
            await chat.Customer!.ResumeAsync(chat.ResumeToken, cancellationToken);
        }
        _log($"{missed} customers never received AgentJoined; they resumed");
        return missed;
    }

    private async Task<ChatResult> RunAsync(CancellationToken cancellationToken)
    {
        var setup = Stopwatch.StartNew();
        using var ticker = Ticker.Start(_status, () => setup.IsRunning
            ? $"set-up: {Volatile.Read(ref _acceptedCount)} accepted, {Volatile.Read(ref _joinedCount)} joined of {_options.Chats}"
            : $"sent {Volatile.Read(ref _sent)}/{_total}, delivered {Volatile.Read(ref _delivered)}, errors {Volatile.Read(ref _sendErrors)}");
        var agentCount = (_options.Chats + _options.Agents.Capacity - 1) / _options.Agents.Capacity;
        await SignInAgentsAsync(agentCount, cancellationToken);
        _log($"{agentCount} agents available; starting {_options.Chats} chats");
        await StartChatsAsync(cancellationToken);
        await WithTimeout(_allAccepted.Task, _options.SetupTimeout,
            () => $"every chat to be accepted (accepted {Volatile.Read(ref _acceptedCount)}, joined {Volatile.Read(ref _joinedCount)} of {_options.Chats}; first error: {_firstError ?? "none"})",
            cancellationToken);
        var missedJoins = await RecoverMissedJoinsAsync(cancellationToken);
        foreach (var chat in _chats)
        {
            var (channelId, agent) = _accepted[chat.SessionId];
            chat.ChannelId = channelId;
            chat.Agent = _agents[agent];
            _chatByChannel[channelId] = chat.Index;
        }
        setup.Stop();
        _log($"{_options.Chats} chats connected in {setup.Elapsed.TotalSeconds:F1} s; sending {_total} messages at {_options.Rate} msg/s");

        await using IAttack? attackers = !_options.Attack ? null
            : _options.AttackNice is { } nice ? AttackerProcess.Start(_options.Target, _options.TargetPid, nice)
            : Attackers.Start(_options.Target, _options.TargetPid);
        if (attackers is not null)
        {
            try
            {
                await attackers.Engaged.WaitAsync(TimeSpan.FromSeconds(120), cancellationToken); // measured under attack, not before it
            }
            catch (TimeoutException)
            {
                throw new InvalidOperationException("The attackers did not get going within 120 s: nothing would be measured under attack.");
            }
        }
        // CPU from the first message until the last has arrived: the cost of relaying them (warm-up included), per message.
        var targetCpuBefore = MachineInfo.CpuSeconds(_options.TargetPid);
        var toolCpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
        var (sendSeconds, maxLag, sends) = await SendAllAsync(cancellationToken);
        await Task.WhenAll(sends);
        var drained = await Task.WhenAny(_allDelivered.Task, Task.Delay(_options.DrainTimeout, cancellationToken)) == _allDelivered.Task;
        var targetCpu = MachineInfo.CpuSeconds(_options.TargetPid) - targetCpuBefore;
        var toolCpu = (Process.GetCurrentProcess().TotalProcessorTime - toolCpuBefore).TotalSeconds;
        if (!drained)
            _log($"not every message arrived within {_options.DrainTimeout.TotalSeconds} s");
        var attack = attackers is null ? null : await attackers.StopAsync();
        if (attack is not null)
        {
            _log(string.Create(CultureInfo.InvariantCulture,
                $"attackers: {attack.CallsSent} flood calls ({attack.CallsRefused} refused, {attack.FlooderDisconnects} disconnects), {attack.ConnectionsOpened} connections opened ({attack.ConnectionsRefused} refused, at most {attack.ConnectionsHeldMax} held), target RSS max {attack.TargetRssMaxMb} MB"));
        }

        var delivered = Volatile.Read(ref _delivered);
        return new ChatResult(
            _options.Chats, agentCount, _options.Rate, Math.Round(_total / sendSeconds, 1), _total, _sendErrors, delivered,
            _duplicates, _misrouted, _total - delivered, _latency.Summary(), _ack.Summary(),
            Math.Round(setup.Elapsed.TotalSeconds, 2), Math.Round(sendSeconds, 2), Math.Round(maxLag, 3), missedJoins, _firstError, attack,
            _fromCustomers.Summary(), _fromAgents.Summary(),
            // Not when the run did not drain (the window would hold the idle wait) or under attack (the attackers' work).
            targetCpu is { } cpu && attackers is null && drained ? Math.Round(cpu * 1000 / _total, 3) : null,
            attackers is null && drained ? Math.Round(toolCpu * 1000 / _total, 3) : null);
    }

    private async Task SignInAgentsAsync(int count, CancellationToken cancellationToken)
    {
        for (var n = 0; n < count; n++)
        {
            var offers = Channel.CreateUnbounded<Guid>();
            // Handlers run on the connection's receive loop: never await an invocation there, hand the work to a loop.
            var agent = await _wire.ConnectAgentAsync(_options.Agents.Id(n), _options.Agents.Password, new AgentEvents(
                sessionId => offers.Writer.TryWrite(sessionId),
                (channelId, evt) => OnReceived(evt, "customer", _chatByChannel.TryGetValue(channelId, out var chat) ? chat : -1)), cancellationToken);
            _agents.Add(agent);
            _ = AcceptLoopAsync(agent, n, offers.Reader, cancellationToken);
            await agent.SetAvailableAsync(cancellationToken);
        }
    }

    private async Task AcceptLoopAsync(IChatAgent agent, int agentIndex, ChannelReader<Guid> offers, CancellationToken cancellationToken)
    {
        try
        {
            await foreach (var sessionId in offers.ReadAllAsync(cancellationToken))
            {
                try
                {
                    var accepted = await agent.AcceptOfferAsync(sessionId, cancellationToken);
                    if (_accepted.TryAdd(sessionId, (accepted.ChannelId, agentIndex)) && Interlocked.Increment(ref _acceptedCount) == _options.Chats)
                        _allAccepted.TrySetResult();
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // offer_not_found / at_capacity (a HubException, or the socket.io server's { error }): the queue
                    // offers the chat to another agent.
                    Error($"AcceptOffer: {ex.Message}");
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
        catch (Exception ex)
        {
            _allAccepted.TrySetException(ex);
        }
    }

    private async Task StartChatsAsync(CancellationToken cancellationToken)
    {
        var pageUrl = new Uri(_options.Target, "/demo/").AbsoluteUri;
        await Parallel.ForAsync(0, _options.Chats, new ParallelOptions { MaxDegreeOfParallelism = _options.SetupConcurrency, CancellationToken = cancellationToken }, async (i, ct) =>
        {
            var chat = _chats[i] = new Chat(i);
            var customer = chat.Customer = await _wire.ConnectCustomerAsync(new CustomerEvents(
                () =>
                {
                    if (chat.MarkJoined() && Interlocked.Increment(ref _joinedCount) == _options.Chats)
                        _allJoined.TrySetResult();
                },
                evt => OnReceived(evt, "agent", chat.Index)), ct);
            var started = await customer.StartChatAsync(new StartChatInput(_options.Site, _options.Queue, $"Customer {i}", null, null, pageUrl, "bench"), ct);
            chat.ResumeToken = started.ResumeToken;
            chat.SessionId = started.SessionId;
        });
    }

    private async Task<(double Seconds, double MaxLagMs, Task[] Sends)> SendAllAsync(CancellationToken cancellationToken)
    {
        var sends = new Task[_total];
        var ticksPerMessage = Stopwatch.Frequency / _options.Rate;
        var start = Stopwatch.GetTimestamp();
        long maxLag = 0;
        var k = 0;
        while (k < _total)
        {
            var now = Stopwatch.GetTimestamp();
            while (k < _total && start + (long)(k * ticksPerMessage) <= now)
            {
                maxLag = Math.Max(maxLag, now - (start + (long)(k * ticksPerMessage)));
                sends[k] = SendAsync(k);
                k++;
                Volatile.Write(ref _sent, k);
            }
            if (k < _total)
                await Pacing.DelayUntilAsync(start + (long)(k * ticksPerMessage), cancellationToken);
        }
        var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
        return (Math.Max(seconds, 1e-6), maxLag * 1000.0 / Stopwatch.Frequency, sends);
    }

    /// <summary>Message k is the customer's on even rounds, the agent's on odd ones.</summary>
    private bool FromCustomer(int k) => (k / _chats.Length) % 2 == 0;

    private async Task SendAsync(int k)
    {
        var chat = _chats[k % _chats.Length];
        var fromCustomer = FromCustomer(k);
        var sentAt = Stopwatch.GetTimestamp();
        var text = string.Create(CultureInfo.InvariantCulture, $"{Prefix}{k}:{sentAt}");
        var id = string.Create(CultureInfo.InvariantCulture, $"b{k}");
        try
        {
            if (fromCustomer)
                await chat.Customer!.SendMessageAsync(text, id);
            else
                await chat.Agent!.SendMessageAsync(chat.ChannelId, text, id);
            if (k >= _options.WarmupMessages)
                _ack.Record(sentAt, Stopwatch.GetTimestamp());
        }
        catch (Exception ex)
        {
            Interlocked.Increment(ref _sendErrors);
            Error($"SendMessage: {ex.Message}");
        }
    }

    /// <summary>A message event arrived at a client of chat <paramref name="chat"/>; count it only where it was meant to arrive.</summary>
    private void OnReceived(ChannelEvent evt, string senderRole, int chat)
    {
        var receivedAt = Stopwatch.GetTimestamp();
        if (evt.Type != "message" || evt.From.Role != senderRole || evt.Text is not { } text || !text.StartsWith(Prefix, StringComparison.Ordinal))
            return;
        var span = text.AsSpan(Prefix.Length);
        var colon = span.IndexOf(':');
        if (colon < 0
            || !int.TryParse(span[..colon], NumberStyles.None, CultureInfo.InvariantCulture, out var k)
            || !long.TryParse(span[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out var sentAt)
            || k >= _total)
        {
            return;
        }
        if (chat != k % _chats.Length)
        {
            Interlocked.Increment(ref _misrouted);
            return;
        }
        if (Interlocked.Increment(ref _received[k]) > 1)
        {
            Interlocked.Increment(ref _duplicates);
            return;
        }
        if (k >= _options.WarmupMessages)
        {
            _latency.Record(sentAt, receivedAt);
            (FromCustomer(k) ? _fromCustomers : _fromAgents).Record(sentAt, receivedAt);
        }
        if (Interlocked.Increment(ref _delivered) == _total)
            _allDelivered.TrySetResult();
    }

    private void Error(string message)
    {
        Interlocked.CompareExchange(ref _firstError, message, null);
    }

    private static async Task WithTimeout(Task task, TimeSpan timeout, Func<string> what, CancellationToken cancellationToken)
    {
        if (await Task.WhenAny(task, Task.Delay(timeout, cancellationToken)) != task)
            throw new TimeoutException($"Timed out after {timeout.TotalSeconds} s waiting for {what()}.");
        await task;
    }

    private async Task TearDownAsync()
    {
        // End every chat so the agents' capacity is free for the next run against the same deployment.
        await Parallel.ForEachAsync(_chats.Where(c => c?.Customer is not null), new ParallelOptions { MaxDegreeOfParallelism = _options.SetupConcurrency }, async (chat, _) =>
        {
            if (chat.Customer!.IsConnected && chat.SessionId != Guid.Empty)
                await chat.Customer.EndChatAsync();
            await chat.Customer.DisposeAsync();
        });
        foreach (var agent in _agents)
            await agent.DisposeAsync();
    }
}
