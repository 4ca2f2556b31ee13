using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Bench;

/// <summary>What the two attackers of <c>chat --attack</c> did, and the target's largest RSS while they ran.</summary>
/// <param name="CallsSent">Hub calls the flooder made.</param>
/// <param name="CallsRefused">Of those, refused by the gateway's rate limits (<c>rate_limited</c>).</param>
/// <param name="CallsOtherErrors">Of those, answered with the method's own error (the flooder has no chat: <c>unknown_session</c>).</param>
/// <param name="FlooderDisconnects">Times the gateway closed the flooder's connection (it reconnects at once).</param>
/// <param name="FlooderRefusedConnects">The flooder's reconnects the gateway turned away (its address cooling down).</param>
/// <param name="ConnectionsOpened">Connections the connection opener got open.</param>
/// <param name="ConnectionsRefused">Connections the gateway refused or closed at once (the per-address cap).</param>
/// <param name="ConnectionsHeldMax">Most of the opener's connections open at one time.</param>
/// <param name="TargetRssMaxMb">The target's largest RSS, sampled twice a second while the attack ran.</param>
/// <param name="Seconds">How long the attack ran.</param>
/// <param name="FirstError">The first thing that went unexpectedly for the attackers (not the refusals they expect).</param>
public sealed record AttackResult(
    long CallsSent,
    long CallsRefused,
    long CallsOtherErrors,
    int FlooderDisconnects,
    int FlooderRefusedConnects,
    int ConnectionsOpened,
    int ConnectionsRefused,
    int ConnectionsHeldMax,
    double? TargetRssMaxMb,
    double Seconds,
    string? FirstError);

/// <summary>
/// Issue 8's attackers, next to ordinary chats: one client flooding the customer hub as fast as it can (32 calls in flight,
/// reconnecting whenever the gateway closes it), and one opening customer connections as fast as it can (8 at a time,
/// keeping every one it gets). Each comes from its own address (<c>X-Forwarded-For</c>, which the target believes only
/// when the bench's address is its known proxy), as real attackers would, so the per-address limits apply to them and
/// not to the ordinary shoppers.
/// </summary>
internal sealed class Attackers : IAttack
{
    public const string FlooderAddress = "198.51.100.66";
    public const string OpenerAddress = "198.51.100.77";

    /// <summary>The opener stops adding connections past this many held (a guard for the load generator's own limits).</summary>
    private const int MaxHeld = 5000;

    private readonly Uri _target;
    private readonly int? _targetPid;
    private readonly CancellationTokenSource _stop = new();
    private readonly ConcurrentDictionary<HubConnection, byte> _held = new();
    private readonly ConcurrentBag<HubConnection> _all = [];
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly List<Task> _loops = [];
    private long _sent, _refused, _otherErrors;
    private int _disconnects, _opened, _openRefused, _heldMax, _flooderRefusedConnects;
    private double? _rssMax;
    private string? _firstError;
    private readonly TaskCompletionSource _engaged = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public Task Engaged => _engaged.Task;

    private void CheckEngaged()
    {
        if (Volatile.Read(ref _opened) > 0 && (Interlocked.Read(ref _sent) > 0 || Volatile.Read(ref _flooderRefusedConnects) > 0))
            _engaged.TrySetResult();
    }

    private Attackers(Uri target, int? targetPid)
    {
        _target = target;
        _targetPid = targetPid;
    }

    public static Attackers Start(Uri target, int? targetPid)
    {
        var attackers = new Attackers(target, targetPid);
        var stop = attackers._stop.Token;
        attackers._loops.Add(Task.Run(() => attackers.FloodAsync(stop), CancellationToken.None));
        attackers._loops.Add(Task.Run(() => attackers.OpenConnectionsAsync(stop), CancellationToken.None));
        attackers._loops.Add(Task.Run(() => attackers.SampleRssAsync(stop), CancellationToken.None));
        return attackers;
    }

    /// <summary>Stops both attackers, closes what they hold and says what they did.</summary>
    public async Task<AttackResult> StopAsync()
    {
        var seconds = _clock.Elapsed.TotalSeconds;
        await _stop.CancelAsync();
        await Task.WhenAll(_loops);
        await Parallel.ForEachAsync(_all, new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (hub, _) => await hub.DisposeAsync());
        _held.Clear();
        _all.Clear();
        return new AttackResult(_sent, _refused, _otherErrors, _disconnects, _flooderRefusedConnects, _opened, _openRefused, _heldMax,
            _rssMax is { } rss ? Math.Round(rss, 1) : null, Math.Round(seconds, 1), _firstError);
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
            await StopAsync();
        _stop.Dispose();
    }

    private HubConnection Connect(string address) => new HubConnectionBuilder()
        .WithUrl(new Uri(_target, "/hubs/customer"), o =>
        {
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
            o.Headers["X-Forwarded-For"] = address;
        })
        .Build();

    private async Task FloodAsync(CancellationToken stop)
    {
        while (!stop.IsCancellationRequested)
        {
            await using var hub = Connect(FlooderAddress);
            try
            {
                await hub.StartAsync(stop);
            }
            catch (Exception ex)
            {
                if (stop.IsCancellationRequested)
                    return;
                if (!ex.Message.Contains("429", StringComparison.Ordinal))
                    Note($"flooder connect: {ex.Message}");
                Interlocked.Increment(ref _flooderRefusedConnects); // turned away (429): an attacker tries again at once
                CheckEngaged();
                continue;
            }
            // 32 callers on one connection, each calling again as soon as the last call returned.
            var callers = Enumerable.Range(0, 32).Select(async i =>
            {
                var n = 0;
                while (!stop.IsCancellationRequested && hub.State == HubConnectionState.Connected)
                {
                    Interlocked.Increment(ref _sent);
                    CheckEngaged();
                    try
                    {
                        await hub.InvokeAsync<object>("SendMessage", "flood", $"f{i}-{n++}", stop);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        if (ex.Message.Contains("rate_limited", StringComparison.Ordinal))
                            Interlocked.Increment(ref _refused);
                        else if (hub.State == HubConnectionState.Connected)
                            Interlocked.Increment(ref _otherErrors);
                        else
                            Interlocked.Decrement(ref _sent); // never sent: the connection had closed under it
                    }
                    catch (OperationCanceledException)
                    {
                        return;
                    }
                }
            }).ToList();
            await Task.WhenAll(callers);
            if (!stop.IsCancellationRequested)
                Interlocked.Increment(ref _disconnects); // the callers stop only when the connection is no longer open
        }
    }

    private async Task OpenConnectionsAsync(CancellationToken stop)
    {
        var openers = Enumerable.Range(0, 8).Select(async _ =>
        {
            while (!stop.IsCancellationRequested)
            {
                if (_held.Count >= MaxHeld)
                {
                    Note($"the connection opener held {MaxHeld} connections and stopped adding");
                    await Task.Delay(Timeout.Infinite, stop).ContinueWith(_ => { }, TaskScheduler.Default);
                    return;
                }
                var hub = Connect(OpenerAddress);
                _all.Add(hub);
                hub.Closed += _ =>
                {
                    // Refused in OnConnected (the per-address cap): the gateway closes it right after the handshake.
                    if (_held.TryRemove(hub, out var _) && !stop.IsCancellationRequested)
                        Interlocked.Increment(ref _openRefused);
                    return Task.CompletedTask;
                };
                try
                {
                    await hub.StartAsync(stop);
                    Interlocked.Increment(ref _opened);
                    CheckEngaged();
                    _held.TryAdd(hub, 0);
                    if (hub.State != HubConnectionState.Connected && _held.TryRemove(hub, out var _))
                    {
                        Interlocked.Increment(ref _openRefused); // closed before it was counted as held
                        continue;
                    }
                    var held = _held.Count;
                    int max;
                    while (held > (max = Volatile.Read(ref _heldMax)) && Interlocked.CompareExchange(ref _heldMax, held, max) != max)
                    {
                    }
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception ex)
                {
                    Interlocked.Increment(ref _openRefused);
                    if (!ex.Message.Contains("429", StringComparison.Ordinal))
                        Note($"connection opener: {ex.Message}");
                }
            }
        });
        await Task.WhenAll(openers);
    }

    private async Task SampleRssAsync(CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(500));
        try
        {
            do
            {
                if (MachineInfo.RssMb(_targetPid) is { } rss && rss > (_rssMax ?? 0))
                    _rssMax = rss;
            }
            while (await timer.WaitForNextTickAsync(stop));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void Note(string message) => Interlocked.CompareExchange(ref _firstError, message, null);
}
