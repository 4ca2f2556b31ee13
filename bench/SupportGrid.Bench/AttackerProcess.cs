using System.Diagnostics;
using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>The attackers of <c>chat --attack</c>, in-process or in a process of their own.</summary>
internal interface IAttack : IAsyncDisposable
{
    /// <summary>Completes once both attackers are at it (the opener holds a connection, the flooder has called or been
    /// turned away), so that what is measured next is measured under attack; fails if they never get going.</summary>
    Task Engaged { get; }

    Task<AttackResult> StopAsync();
}

/// <summary>
/// The attackers in a process of their own (<c>bench attack</c>), started under <c>nice</c>: the closest this one box gets to
/// attackers on other machines. They still try as fast as they can, but on CPU that the gateway and the measuring tool
/// leave idle, so what the gateway's latency shows is the cost of serving and refusing them, not two cores shared three
/// ways. Stopped by closing its standard input; it prints its <see cref="AttackResult"/> as JSON.
/// </summary>
internal sealed class AttackerProcess : IAttack
{
    private readonly Process _process;
    private bool _stopped;

    /// <summary>What <c>bench attack</c> prints once its attackers are engaged, before its result.</summary>
    private const string EngagedLine = "engaged";

    private AttackerProcess(Process process)
    {
        _process = process;
        Engaged = ReadEngagedAsync();
    }

    public Task Engaged { get; }

    private async Task ReadEngagedAsync()
    {
        // A niced process gets only idle CPU: on a busy machine a fresh runtime takes seconds to start. The caller bounds the
        // wait (and kills the process, which ends this read, when it gives up).
        while (await _process.StandardOutput.ReadLineAsync() is { } line)
        {
            if (line == EngagedLine)
                return;
        }
        throw new InvalidOperationException("The attacker process ended before its attackers got going.");
    }

    public static AttackerProcess Start(Uri target, int? targetPid, int nice)
    {
        var self = Environment.ProcessPath!; // dotnet, running this tool
        var dll = typeof(AttackerProcess).Assembly.Location;
        var start = new ProcessStartInfo("nice")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { "-n", nice.ToString(System.Globalization.CultureInfo.InvariantCulture), self, dll, "attack", "--url", target.ToString() })
            start.ArgumentList.Add(arg);
        if (targetPid is { } pid)
        {
            start.ArgumentList.Add("--target-pid");
            start.ArgumentList.Add(pid.ToString(System.Globalization.CultureInfo.InvariantCulture));
        }
        return new AttackerProcess(Process.Start(start) ?? throw new InvalidOperationException("Could not start the attacker process."));
    }

    public async Task<AttackResult> StopAsync()
    {
        _stopped = true;
        await Engaged; // its line is read before the result
        var output = _process.StandardOutput.ReadToEndAsync();
        _process.StandardInput.Close();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await _process.WaitForExitAsync(timeout.Token);
        var json = (await output).Trim();
        return JsonSerializer.Deserialize<AttackResult>(json[json.IndexOf('{', StringComparison.Ordinal)..])
            ?? throw new InvalidOperationException("The attacker process printed no result.");
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stopped && !_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    /// <summary><c>bench attack</c>: runs the attackers until standard input closes, then prints what they did.</summary>
    public static async Task<int> RunAsync(Uri target, int? targetPid)
    {
        await using var attackers = Attackers.Start(target, targetPid);
        await attackers.Engaged;
        Console.Out.WriteLine(EngagedLine);
        await Console.Out.FlushAsync();
        await Console.In.ReadToEndAsync(); // until the parent closes our input
        var result = await attackers.StopAsync();
        Console.Out.WriteLine(JsonSerializer.Serialize(result));
        return 0;
    }
}
