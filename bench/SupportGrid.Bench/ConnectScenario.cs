using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Bench;

/// <summary>What the <c>connect</c> scenario does: N customer connections, idle or waiting in the queue.</summary>
public sealed record ConnectOptions
{
    public required Uri Target { get; init; }

    /// <summary>Process id of the target, for its RSS before and after (<c>/proc/{pid}/status</c>).</summary>
    public int? TargetPid { get; init; }

    /// <summary>Customer connections (N).</summary>
    public int Connections { get; init; } = 1000;

    /// <summary>False: connected to <c>/hubs/customer</c> and nothing else (the product activates nothing until the
    /// customer asks for help). True: each also calls <c>StartChat</c> and waits in the queue (no agent is available).</summary>
    public bool StartChat { get; init; }

    public string Site { get; init; } = "demo";
    public string Queue { get; init; } = "sales";

    public int SetupConcurrency { get; init; } = 32;
}

/// <summary>Outcome of one <c>connect</c> run. <see cref="Connect"/>: per customer, from the start of the WebSocket
/// connection to its handshake (plus <c>StartChat</c>'s answer when asked); <see cref="KbPerConnection"/>: the target's
/// RSS difference over N.</summary>
public sealed record ConnectResult(
    int Connections,
    bool StartChat,
    int Connected,
    int Errors,
    double TotalSeconds,
    LatencySummary Connect,
    double? RssBeforeMb,
    double? RssAfterMb,
    double? KbPerConnection,
    string? FirstError);

/// <summary><c>connect</c>: opens N customer connections (32 at a time), keeps them all open, reads the target's RSS,
/// then ends the chats and closes them.</summary>
public static class ConnectScenario
{
    /// <summary>Runs the scenario once. <c>log</c> gets the lines worth keeping (phases, problems); <c>status</c>, when
    /// given, gets the progress twice a second for a live display.</summary>
    public static async Task<ConnectResult> RunAsync(ConnectOptions options, Action<string>? log = null, CancellationToken cancellationToken = default, Action<string>? status = null)
    {
        if (options.Connections < 1)
            throw new ArgumentException("Connections must be positive.", nameof(options));
        log ??= _ => { };
        var hubs = new HubConnection?[options.Connections];
        var latency = new LatencyRecorder();
        var pageUrl = new Uri(options.Target, "/demo/").AbsoluteUri;
        string? firstError = null;
        var errors = 0;
        var before = MachineInfo.RssMb(options.TargetPid);
        var total = Stopwatch.StartNew();
        var done = 0;
        using var ticker = Ticker.Start(status, () => $"{Volatile.Read(ref done)}/{options.Connections} {(options.StartChat ? "connected and queued" : "connected")}, {Volatile.Read(ref errors)} errors");
        try
        {
            await Parallel.ForAsync(0, options.Connections, new ParallelOptions { MaxDegreeOfParallelism = options.SetupConcurrency, CancellationToken = cancellationToken }, async (i, ct) =>
            {
                var hub = SignalRBroadcastDriver.Connect(options.Target, "/hubs/customer");
                var start = Stopwatch.GetTimestamp();
                try
                {
                    await hub.StartAsync(ct);
                    if (options.StartChat)
                        await hub.InvokeAsync<StartChatResult>("StartChat", new StartChatInput(options.Site, options.Queue, $"Customer {i}", null, null, pageUrl, "bench"), ct);
                    latency.Record(start, Stopwatch.GetTimestamp());
                    hubs[i] = hub;
                    Interlocked.Increment(ref done);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    Interlocked.Increment(ref errors);
                    Interlocked.CompareExchange(ref firstError, ex.Message, null);
                    await hub.DisposeAsync();
                }
            });
            total.Stop();
            var after = MachineInfo.RssMb(options.TargetPid);
            var connected = hubs.Count(h => h is not null);
            log($"{connected} of {options.Connections} connected{(options.StartChat ? " and queued" : "")} in {total.Elapsed.TotalSeconds:F1} s; target RSS {before} -> {after} MB");
            return new ConnectResult(options.Connections, options.StartChat, connected, errors, Math.Round(total.Elapsed.TotalSeconds, 2), latency.Summary(),
                before, after, before is { } b && after is { } a && connected > 0 ? Math.Round((a - b) * 1024 / connected, 1) : null, firstError);
        }
        finally
        {
            await Parallel.ForEachAsync(hubs.Where(h => h is not null), new ParallelOptions { MaxDegreeOfParallelism = options.SetupConcurrency }, async (hub, _) =>
            {
                try
                {
                    if (options.StartChat && hub!.State == HubConnectionState.Connected)
                        await hub.InvokeAsync("EndChat");
                }
                catch (HubException)
                {
                    // Already ended.
                }
                await hub!.DisposeAsync();
            });
        }
    }
}
