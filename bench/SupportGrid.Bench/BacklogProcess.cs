using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>What a backlog process holds open: the waiting customers' sessions and the idle connections.</summary>
internal sealed record BacklogHeld(IReadOnlyList<Guid> Sessions, int Idle);

/// <summary>
/// <c>route --waiting/--idle</c> with <c>--backlog-nice N</c>: the backlog's connections in a process of their own
/// (<c>bench backlog</c>) under <c>nice</c>, the closest this one box gets to the waiting customers' browsers being on
/// other machines. The target still holds every one of their connections; what moves off the measuring tool's cores is
/// the clients' own work (their timers, keep-alives and receive loops). The child prints one JSON line
/// (<see cref="BacklogHeld"/>) once everything is open, holds it until its standard input closes, then closes it all.
/// </summary>
internal sealed class BacklogProcess : IAsyncDisposable
{
    private readonly Process _process;

    private BacklogProcess(Process process, BacklogHeld held) => (_process, Held) = (process, held);

    public BacklogHeld Held { get; }

    public static async Task<BacklogProcess> StartAsync(RouteOptions options, int nice, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo("nice") { RedirectStandardInput = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var arg in new[]
        {
            "-n", nice.ToString(CultureInfo.InvariantCulture), Environment.ProcessPath!, typeof(BacklogProcess).Assembly.Location, "backlog",
            "--url", options.Target.ToString(), "--site", options.Site, "--queue", options.Queue,
            "--waiting", options.Waiting.ToString(CultureInfo.InvariantCulture), "--idle", options.Idle.ToString(CultureInfo.InvariantCulture),
            "--identity-secret", options.IdentitySecret, "--concurrency", options.ConnectConcurrency.ToString(CultureInfo.InvariantCulture),
        })
            start.ArgumentList.Add(arg);
        var process = Process.Start(start) ?? throw new InvalidOperationException("Could not start the backlog process.");
        try
        {
            var line = await process.StandardOutput.ReadLineAsync(cancellationToken)
                ?? throw new InvalidOperationException($"The backlog process exited ({(process.WaitForExit(5000) ? process.ExitCode : -1)}) before it held its connections.");
            var held = JsonSerializer.Deserialize<BacklogHeld>(line) ?? throw new InvalidOperationException("The backlog process printed no result.");
            return new BacklogProcess(process, held);
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Closes the child's input: it ends the waiting customers' chats, closes every connection and exits.</summary>
    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.Close();
            using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(2));
            try
            {
                await _process.WaitForExitAsync(timeout.Token);
            }
            catch (OperationCanceledException)
            {
                _process.Kill(entireProcessTree: true);
            }
        }
        _process.Dispose();
    }

    /// <summary><c>bench backlog</c>: opens the backlog, prints what it holds, holds it until standard input closes.</summary>
    public static async Task<int> RunAsync(Uri target, string site, string queue, int waiting, int idle, string secret, int concurrency)
    {
        var wire = ChatWire.For(ChatProtocol.SignalR, target);
        var log = (string line) => Console.Error.WriteLine(line);
        IReadOnlyList<IChatCustomer> waitingCustomers = [], idleCustomers = [];
        IReadOnlySet<Guid> sessions = new HashSet<Guid>();
        try
        {
            if (waiting > 0)
                (waitingCustomers, sessions) = await Backlog.FillAsync(wire, site, queue, waiting, secret, concurrency, log, CancellationToken.None);
            if (idle > 0)
                idleCustomers = await Backlog.ConnectIdleAsync(wire, idle, concurrency, log, CancellationToken.None);
            Console.Out.WriteLine(JsonSerializer.Serialize(new BacklogHeld([.. sessions], idleCustomers.Count)));
            await Console.Out.FlushAsync();
            await Console.In.ReadToEndAsync(); // until the parent closes our input
        }
        finally
        {
            await Backlog.DisposeAsync(waitingCustomers, concurrency);
            await Backlog.DisposeAsync(idleCustomers, concurrency, endChats: false);
            wire.Dispose();
        }
        return 0;
    }
}
