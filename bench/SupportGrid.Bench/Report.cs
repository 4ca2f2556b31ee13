using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>Where a run happened: the figures mean little without it.</summary>
public sealed record MachineInfo(string Os, string Cpu, int Cores, long MemoryMb, string Runtime, string Command, DateTimeOffset At)
{
    public static MachineInfo Current(string command) => new(
        RuntimeInformation.OSDescription,
        ReadProc("/proc/cpuinfo", "model name") ?? RuntimeInformation.ProcessArchitecture.ToString(),
        Environment.ProcessorCount,
        (ReadKb("/proc/meminfo", "MemTotal") ?? 0) / 1024,
        RuntimeInformation.FrameworkDescription,
        command,
        DateTimeOffset.UtcNow);

    /// <summary>Resident set size of a process in MB, from <c>/proc/{pid}/status</c>; null when it cannot be read.</summary>
    public static double? RssMb(int? pid) =>
        pid is { } p && ReadKb($"/proc/{p}/status", "VmRSS") is { } kb ? Math.Round(kb / 1024.0, 1) : null;

    /// <summary>CPU time (user + system) a process has used so far, in seconds, from <c>/proc/{pid}/stat</c>; null when it
    /// cannot be read. Less noisy than latency on a shared machine: what one unit of work costs, whatever else runs.</summary>
    public static double? CpuSeconds(int? pid)
    {
        if (pid is not { } p)
            return null;
        try
        {
            // The command (field 2) is in parentheses and may hold spaces: count from the closing one. utime and stime are
            // fields 14 and 15, in clock ticks (USER_HZ, which Linux fixes at 100 for user space).
            var stat = File.ReadAllText($"/proc/{p}/stat");
            var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
            return (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
        }
        catch (IOException)
        {
            return null; // not on Linux, or the process is gone
        }
    }

    private static string? ReadProc(string file, string key)
    {
        if (!File.Exists(file))
            return null;
        foreach (var line in File.ReadLines(file))
        {
            if (line.StartsWith(key, StringComparison.Ordinal) && line.IndexOf(':') is var colon and > 0)
                return line[(colon + 1)..].Trim();
        }
        return null;
    }

    private static long? ReadKb(string file, string key) =>
        ReadProc(file, key) is { } value && long.TryParse(value.Split(' ')[0], NumberStyles.None, CultureInfo.InvariantCulture, out var kb) ? kb : null;
}

/// <summary>One run of the chat scenario with the target's memory around it.</summary>
public sealed record ChatRun(int Run, ChatResult Result, double? TargetRssMbBefore, double? TargetRssMbAfter);

/// <summary>The runs of one scenario against one target (SupportGrid or a baseline), in the order they ran.</summary>
public sealed record TargetRuns<T>(string Target, IReadOnlyList<T> Runs);

/// <summary>Prints and saves results: a text table, a markdown table and the full JSON.</summary>
public static class Report
{
    public static string ChatTable(IReadOnlyList<ChatRun> runs)
    {
        var rows = new StringBuilder();
        rows.AppendLine("| run | chats | rate target | rate sent | messages | delivered once | lost | dup | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | ack p50 ms | ack p99 ms | setup s | missed joins | target RSS MB | target CPU ms/msg | tool CPU ms/msg |");
        rows.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var run in runs)
        {
            var r = run.Result;
            rows.AppendLine(Row(run.Run.ToString(CultureInfo.InvariantCulture), r.Chats, r.TargetRate, r.AchievedRate, r.Sent, r.Delivered - r.Duplicates, r.Lost, r.Duplicates,
                r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Ack.P50, r.Ack.P99, r.SetupSeconds,
                r.MissedJoins, run.TargetRssMbAfter, r.TargetCpuMsPerMessage, r.ToolCpuMsPerMessage));
        }
        if (runs.Count > 1)
        {
            var r = runs.Select(x => x.Result).ToList();
            rows.AppendLine(Row($"median of {runs.Count}", r[0].Chats, r[0].TargetRate, Median(r, x => x.AchievedRate), r[0].Sent,
                null, null, null,
                Median(r, x => x.Latency.P50), Median(r, x => x.Latency.P90), Median(r, x => x.Latency.P99), Median(r, x => x.Latency.P999),
                Median(r, x => x.Latency.Max), Median(r, x => x.Ack.P50), Median(r, x => x.Ack.P99), Median(r, x => x.SetupSeconds),
                null, runs.Max(x => x.TargetRssMbAfter),
                r.All(x => x.TargetCpuMsPerMessage is not null) ? Median(r, x => x.TargetCpuMsPerMessage!.Value) : null,
                r.All(x => x.ToolCpuMsPerMessage is not null) ? Median(r, x => x.ToolCpuMsPerMessage!.Value) : null));
        }
        return rows.ToString();
    }

    public static double Median<T>(IEnumerable<T> items, Func<T, double> value)
    {
        var sorted = items.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Row(string run, int chats, double target, double achieved, int messages, int? once, int? lost, int? dup,
        double p50, double p90, double p99, double p999, double max, double ackP50, double ackP99, double setup, int? missedJoins, double? rss,
        double? targetCpu, double? toolCpu) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {run} | {chats} | {target} | {achieved} | {messages} | {Opt(once)} | {Opt(lost)} | {Opt(dup)} | {p50:F2} | {p90:F2} | {p99:F2} | {p999:F2} | {max:F2} | {ackP50:F2} | {ackP99:F2} | {setup:F1} | {Opt(missedJoins)} | {Opt(rss)} | {Opt(targetCpu)} | {Opt(toolCpu)} |");

    private static string Opt<T>(T? value) where T : struct => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v}") : "-";

    /// <summary>Writes <c>chat-{chats}c-{rate}r-{time}.json</c> and <c>.md</c> into <paramref name="directory"/>; returns the markdown path.</summary>
    public static string SaveChat(string directory, MachineInfo machine, IReadOnlyList<ChatRun> runs) =>
        SaveChat(directory, machine, [new TargetRuns<ChatRun>(Target.SupportGrid, runs)]);

    /// <summary>The same for several targets run in the same invocation: a side-by-side table of medians with the
    /// ratios to the first target, then each target's runs.</summary>
    public static string SaveChat(string directory, MachineInfo machine, IReadOnlyList<TargetRuns<ChatRun>> targets)
    {
        var first = targets[0].Runs[0].Result;
        var name = string.Create(CultureInfo.InvariantCulture, $"chat-{first.Chats}c-{first.TargetRate}r-{machine.At:yyyyMMdd-HHmmss}");
        return Save(directory, name, $"chat: {first.Chats} chats, {first.TargetRate} msg/s", machine, new { scenario = "chat", machine, targets, runs = targets[0].Runs }, ChatTables(targets));
    }

    /// <summary>
    /// <c>chat --attack</c>: per rate, each attacked run beside the plain run after it, what the attackers did, and the
    /// issue-8 verdict: the ordinary chats' p99 within 2x of the plain run's (medians), nothing lost, the target's memory
    /// bounded (its largest RSS during the attack against its RSS after the plain runs).
    /// </summary>
    public static string AttackTable(IReadOnlyList<SweepPoint<ChatRun>> points)
    {
        var text = new StringBuilder("\n## Under attack (issue 8)\n\n");
        text.AppendLine("| rate | run | p99 ms attacked | p99 ms plain | lost attacked | flood calls | refused | other errors | flooder disconnects | flooder reconnects refused | connections opened | refused | most held | target RSS max MB during attack |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var point in points)
        {
            var attacked = point.Targets.FirstOrDefault(t => t.Target == Target.SupportGridAttacked)?.Runs ?? [];
            var plain = point.Targets.FirstOrDefault(t => t.Target == Target.SupportGrid)?.Runs ?? [];
            for (var i = 0; i < attacked.Count; i++)
            {
                var r = attacked[i].Result;
                var a = r.Attack;
                object?[] cells = [point.Value, i + 1, r.Latency.P99, i < plain.Count ? plain[i].Result.Latency.P99 : null, r.Lost + r.SendErrors,
                    a?.CallsSent, a?.CallsRefused, a?.CallsOtherErrors, a?.FlooderDisconnects, a?.FlooderRefusedConnects, a?.ConnectionsOpened, a?.ConnectionsRefused, a?.ConnectionsHeldMax, a?.TargetRssMaxMb];
                text.AppendLine("| " + string.Join(" | ", cells.Select(c => c is null ? "-" : string.Format(CultureInfo.InvariantCulture, "{0}", c))) + " |");
            }
            if (attacked.Count == 0 || plain.Count == 0)
                continue;
            var ratio = Median(attacked, x => x.Result.Latency.P99) / Median(plain, x => x.Result.Latency.P99);
            var lost = attacked.Sum(x => x.Result.Lost + x.Result.SendErrors + x.Result.Duplicates);
            text.AppendLine().AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"- {point.Value} msg/s: attacked p99 / plain p99 (medians) = **{ratio:F2}x** (target at most 2x: {(ratio <= 2 ? "met" : "missed")}); messages lost, duplicated or refused in the attacked runs: **{lost}**; target RSS at most {attacked.Max(x => x.Result.Attack?.TargetRssMaxMb)} MB during the attacks, {plain.Max(x => x.TargetRssMbAfter)} MB after the plain runs"));
        }
        return text.ToString();
    }

    public static string ChatTables(IReadOnlyList<TargetRuns<ChatRun>> targets)
    {
        if (targets.Count == 1)
            return ChatTable(targets[0].Runs);
        var text = new StringBuilder(CompareTable(targets, [
            ("p50 ms", r => Median(r, x => x.Result.Latency.P50)),
            ("p90 ms", r => Median(r, x => x.Result.Latency.P90)),
            ("p99 ms", r => Median(r, x => x.Result.Latency.P99)),
            ("ack p50 ms", r => Median(r, x => x.Result.Ack.P50)),
            ("ack p99 ms", r => Median(r, x => x.Result.Ack.P99)),
            ("rate sent msg/s", r => Median(r, x => x.Result.AchievedRate)),
            ("set-up s", r => Median(r, x => x.Result.SetupSeconds)),
            ("target CPU ms per message", r => r.All(x => x.Result.TargetCpuMsPerMessage is not null) ? Median(r, x => x.Result.TargetCpuMsPerMessage!.Value) : null),
            ("tool CPU ms per message", r => r.All(x => x.Result.ToolCpuMsPerMessage is not null) ? Median(r, x => x.Result.ToolCpuMsPerMessage!.Value) : null),
            ("target RSS MB (max)", r => r.Max(x => x.TargetRssMbAfter)),
        ]));
        foreach (var target in targets)
            text.AppendLine().AppendLine(CultureInfo.InvariantCulture, $"{target.Target}:").AppendLine().Append(ChatTable(target.Runs));
        return text.ToString();
    }

    /// <summary>One line per metric, one column per target, then each target's ratio to the first (first / other).</summary>
    public static string CompareTable<T>(IReadOnlyList<TargetRuns<T>> targets, IReadOnlyList<(string Metric, Func<IReadOnlyList<T>, double?> Value)> metrics)
    {
        var rows = new StringBuilder();
        var others = targets.Skip(1).ToList();
        rows.AppendLine($"| median of {targets[0].Runs.Count} runs | {string.Join(" | ", targets.Select(t => t.Target))} | {string.Join(" | ", others.Select(o => $"{targets[0].Target} / {o.Target}"))} |");
        rows.AppendLine($"|---|{string.Concat(Enumerable.Repeat("---|", targets.Count + others.Count))}");
        foreach (var (metric, value) in metrics)
        {
            var values = targets.Select(t => t.Runs.Count == 0 ? null : value(t.Runs)).ToList();
            var ratios = values.Skip(1).Select(v => values[0] is { } a && v is { } b && b != 0 ? $"{a / b:F2}x" : "-");
            rows.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {metric} | {string.Join(" | ", values.Select(v => v is { } x ? x.ToString("0.##", CultureInfo.InvariantCulture) : "-"))} | {string.Join(" | ", ratios)} |"));
        }
        return rows.ToString();
    }

    public static string BroadcastTable(IReadOnlyList<TargetRuns<BroadcastResult>> targets)
    {
        var text = new StringBuilder();
        if (targets.Count > 1)
        {
            text.Append(CompareTable(targets, [
                ("to last customer p50 ms", r => Median(r, x => x.Last.P50)),
                ("to last customer p99 ms", r => Median(r, x => x.Last.P99)),
                ("each delivery p50 ms", r => Median(r, x => x.Each.P50)),
                ("each delivery p99 ms", r => Median(r, x => x.Each.P99)),
                ("set-up s", r => Median(r, x => x.SetupSeconds)),
            ])).AppendLine();
        }
        text.AppendLine("| target | run | customers | navigations | delivered once | dup | incomplete | to last p50 ms | to last p99 ms | to last max ms | each p50 ms | each p99 ms | set-up s |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var target in targets)
        {
            for (var i = 0; i < target.Runs.Count; i++)
            {
                var r = target.Runs[i];
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {target.Target} | {i + 1} | {r.Customers} | {r.Broadcasts} | {r.Delivered}/{r.Expected} | {r.Duplicates} | {r.Incomplete} | {r.Last.P50:F2} | {r.Last.P99:F2} | {r.Last.Max:F2} | {r.Each.P50:F2} | {r.Each.P99:F2} | {r.SetupSeconds:F1} |"));
            }
        }
        return text.ToString();
    }

    public static string SaveBroadcast(string directory, MachineInfo machine, IReadOnlyList<TargetRuns<BroadcastResult>> targets)
    {
        var first = targets[0].Runs[0];
        var name = string.Create(CultureInfo.InvariantCulture, $"broadcast-{first.Customers}n-{machine.At:yyyyMMdd-HHmmss}");
        return Save(directory, name, $"broadcast: {first.Customers} customers in one channel, {first.Broadcasts} navigations", machine,
            new { scenario = "broadcast", machine, targets }, BroadcastTable(targets));
    }

    public static string ConnectTable(IReadOnlyList<TargetRuns<ConnectResult>> targets)
    {
        var text = new StringBuilder();
        text.AppendLine("| target | run | customers | StartChat (queued) | connected | errors | total s | connect p50 ms | connect p99 ms | RSS before MB | RSS after MB | KB per connection |");
        text.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var target in targets)
        {
            for (var i = 0; i < target.Runs.Count; i++)
            {
                var r = target.Runs[i];
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {target.Target} | {i + 1} | {r.Connections} | {(r.StartChat ? "yes" : "no")} | {r.Connected} | {r.Errors} | {r.TotalSeconds:F1} | {r.Connect.P50:F2} | {r.Connect.P99:F2} | {Opt(r.RssBeforeMb)} | {Opt(r.RssAfterMb)} | {Opt(r.KbPerConnection)} |"));
            }
        }
        return text.ToString();
    }

    public static string SaveConnect(string directory, MachineInfo machine, IReadOnlyList<TargetRuns<ConnectResult>> targets)
    {
        var first = targets[0].Runs[0];
        var name = string.Create(CultureInfo.InvariantCulture, $"connect-{first.Connections}n{(first.StartChat ? "-queued" : "")}-{machine.At:yyyyMMdd-HHmmss}");
        return Save(directory, name, $"connect: {first.Connections} customers{(first.StartChat ? ", each queued (StartChat)" : ", idle")}", machine,
            new { scenario = "connect", machine, targets }, ConnectTable(targets));
    }

    private static string Save(string directory, string name, string title, MachineInfo machine, object json, string tables) =>
        SweepReport.Save(directory, name, title, machine, json, tables);
}

/// <summary>Route results and the tables and files of sweeps (several points of one scenario in one invocation).</summary>
public static class SweepReport
{
    internal static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    /// <summary>A chat point is held when every run delivered every message exactly once, the sender kept 95% of the
    /// rate, and the median p99 is at most <paramref name="p99Ms"/>.</summary>
    public static Func<IReadOnlyList<ChatRun>, bool> ChatHeld(double p99Ms) => runs =>
        runs.All(r => r.Result.ExactlyOnce)
        && Report.Median(runs, r => r.Result.AchievedRate) >= 0.95 * runs[0].Result.TargetRate
        && Report.Median(runs, r => r.Result.Latency.P99) <= p99Ms;

    /// <summary>A route point is held when every arrival of every run was offered and connected, arrivals kept 95% of
    /// the rate, and the median p99 request -> connected is at most <paramref name="p99Ms"/>.</summary>
    public static Func<IReadOnlyList<RouteResult>, bool> RouteHeld(double p99Ms) => runs =>
        runs.All(r => r.AllConnected)
        && Report.Median(runs, r => r.AchievedRate) >= 0.95 * runs[0].TargetRate
        && Report.Median(runs, r => r.ToConnected.P99) <= p99Ms;

    public static string HeldLines(IReadOnlyList<Held> held, string unit, string condition) =>
        string.Concat(held.Select(h => string.Create(CultureInfo.InvariantCulture,
            $"- {h.Target}: highest {unit} held with {condition}: **{(h.Highest is { } v ? v.ToString(CultureInfo.InvariantCulture) : "none")}**{(h.FirstMissed is { } m ? $" (first missed: {m})" : " (every point held)")}\n")));

    public static string ChatSweepTable(IReadOnlyList<SweepPoint<ChatRun>> points, double p99Ms)
    {
        var text = new StringBuilder()
            .AppendLine("| rate msg/s | target | runs | p50 ms | p90 ms | p99 ms | ack p99 ms | rate sent | exactly once | target CPU ms/msg |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var point in points)
        {
            foreach (var t in point.Targets)
            {
                var r = t.Runs;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {point.Value} | {t.Target} | {r.Count} | {M(r, x => x.Result.Latency.P50)} | {M(r, x => x.Result.Latency.P90)} | {M(r, x => x.Result.Latency.P99)} | {M(r, x => x.Result.Ack.P99)} | {M(r, x => x.Result.AchievedRate)} | {(r.All(x => x.Result.ExactlyOnce) ? "yes" : "NO")} | {(r.All(x => x.Result.TargetCpuMsPerMessage is not null) ? M(r, x => x.Result.TargetCpuMsPerMessage!.Value) : "-")} |"));
            }
        }
        return text.AppendLine().Append(HeldLines(Sweep.HighestHeld(points, ChatHeld(p99Ms)), "rate", $"p99 under {p99Ms} ms, exactly once, rate kept")).ToString();
    }

    public static string RouteTable(IReadOnlyList<TargetRuns<RouteResult>> targets)
    {
        var text = new StringBuilder()
            .AppendLine("| target | run | rate | rate kept | agents | waiting before | arrived | offered | connected | failed | offer p50 ms | offer p99 ms | connected p50 ms | connected p99 ms | connected max ms | StartChat answer p99 ms | max arrival lag ms | waiting offered | target CPU ms/chat | tool CPU ms/chat |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var target in targets)
        {
            for (var i = 0; i < target.Runs.Count; i++)
            {
                var r = target.Runs[i];
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {target.Target} | {i + 1} | {r.TargetRate} | {r.AchievedRate} | {r.Agents} | {r.Waiting} | {r.Arrived} | {r.Offered} | {r.Connected} | {r.Failed} | {r.ToOffer.P50:F2} | {r.ToOffer.P99:F2} | {r.ToConnected.P50:F2} | {r.ToConnected.P99:F2} | {r.ToConnected.Max:F2} | {r.StartAnswer.P99:F2} | {r.MaxArrivalLagMs:F1} | {r.BacklogOffered} | {r.TargetCpuMsPerChat?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} | {r.ToolCpuMsPerChat?.ToString("F2", CultureInfo.InvariantCulture) ?? "-"} |"));
            }
        }
        return text.ToString();
    }

    public static string PageViewTable(IReadOnlyList<PageViewResult> runs)
    {
        var text = new StringBuilder()
            .AppendLine("| run | page | snapshot chars | snapshot s | idle bytes/s | idle kbit/s | active bytes/s | active kbit/s | pieces | degraded |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        for (var i = 0; i < runs.Count; i++)
        {
            var r = runs[i];
            text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                $"| {i + 1} | {r.Page} | {r.SnapshotChars} | {r.SnapshotSeconds} | {r.IdleBytesPerSecond} | {r.IdleKbitPerSecond} | {r.ActiveBytesPerSecond} | {r.ActiveKbitPerSecond} | {r.Pieces} | {r.Degraded} |"));
        }
        double Median(Func<PageViewResult, double> of) => runs.Select(of).Order().ElementAt(runs.Count / 2);
        return text.AppendLine().AppendLine(string.Create(CultureInfo.InvariantCulture,
            $"Medians of {runs.Count}: snapshot {Median(r => r.SnapshotChars)} characters, idle {Median(r => r.IdleKbitPerSecond)} kbit/s, active {Median(r => r.ActiveKbitPerSecond)} kbit/s (Glance publishes about 50 kbit/s for its co-browse).")).ToString();
    }

    public static string RouteSweepTable(IReadOnlyList<SweepPoint<RouteResult>> points, double p99Ms)
    {
        var text = new StringBuilder()
            .AppendLine("| R per s | target | runs | offer p50 ms | offer p99 ms | connected p50 ms | connected p99 ms | rate kept | all connected | target CPU ms/chat |")
            .AppendLine("|---|---|---|---|---|---|---|---|---|---|");
        foreach (var point in points)
        {
            foreach (var t in point.Targets)
            {
                var r = t.Runs;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {point.Value} | {t.Target} | {r.Count} | {M(r, x => x.ToOffer.P50)} | {M(r, x => x.ToOffer.P99)} | {M(r, x => x.ToConnected.P50)} | {M(r, x => x.ToConnected.P99)} | {M(r, x => x.AchievedRate)} | {(r.All(x => x.AllConnected) ? "yes" : "NO")} | {(r.All(x => x.TargetCpuMsPerChat is not null) ? M(r, x => x.TargetCpuMsPerChat!.Value) : "-")} |"));
            }
        }
        return text.AppendLine().Append(HeldLines(Sweep.HighestHeld(points, RouteHeld(p99Ms)), "R", $"p99 request -> connected under {p99Ms} ms, all connected, rate kept")).ToString();
    }

    public static string BroadcastSweepTable(IReadOnlyList<SweepPoint<BroadcastResult>> points)
    {
        var text = new StringBuilder()
            .AppendLine("| N customers | target | runs | to last p50 ms | to last p99 ms | each p99 ms | exactly once |")
            .AppendLine("|---|---|---|---|---|---|---|");
        foreach (var point in points)
        {
            foreach (var t in point.Targets)
            {
                var r = t.Runs;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {point.Value} | {t.Target} | {r.Count} | {M(r, x => x.Last.P50)} | {M(r, x => x.Last.P99)} | {M(r, x => x.Each.P99)} | {(r.All(x => x.ExactlyOnce) ? "yes" : "NO")} |"));
            }
        }
        return text.ToString();
    }

    /// <summary>Under a connect sweep's table: why only its first size measures the cost of N.</summary>
    public const string SweepReusesTargetNote = "Every size after the first is measured on the same target process, whose RSS keeps what the size " +
        "before it grew (the GC does not give it back): its KB per connection is the growth beyond that size, not the cost of N. For the " +
        "cost of N, run each size in an invocation of its own.";

    public static string ConnectSweepTable(IReadOnlyList<SweepPoint<ConnectResult>> points)
    {
        var text = new StringBuilder()
            .AppendLine("| N | target | runs | KB per connection (run 1) | connect p50 ms | connect p99 ms | all connected in s | errors |")
            .AppendLine("|---|---|---|---|---|---|---|---|");
        foreach (var point in points)
        {
            foreach (var t in point.Targets)
            {
                var r = t.Runs;
                text.AppendLine(string.Create(CultureInfo.InvariantCulture,
                    $"| {point.Value} | {t.Target} | {r.Count} | {(r[0].KbPerConnection is { } kb ? kb.ToString(CultureInfo.InvariantCulture) : "-")} | {M(r, x => x.Connect.P50)} | {M(r, x => x.Connect.P99)} | {M(r, x => x.TotalSeconds)} | {r.Sum(x => x.Errors)} |"));
            }
        }
        if (points.Count > 1)
            text.AppendLine().AppendLine(SweepReusesTargetNote);
        return text.ToString();
    }

    /// <summary>Saves a sweep's results (<see cref="Save"/>) in the shape <see cref="Plots.Replot"/> reads back:
    /// <c>{ scenario, machine, points }</c>.</summary>
    public static string SaveSweep<T>(string directory, string name, string title, MachineInfo machine, string scenario,
        IReadOnlyList<SweepPoint<T>> points, string tables) =>
        Save(directory, name, title, machine, new { scenario, machine, points }, tables);

    /// <summary>Writes <c>{name}.json</c> and <c>{name}.md</c> (machine, command, <paramref name="tables"/>); returns the markdown path.</summary>
    public static string Save(string directory, string name, string title, MachineInfo machine, object json, string tables)
    {
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, name + ".json"), JsonSerializer.Serialize(json, Json));
        var md = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# {title}")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- machine: {machine.Cores} cores ({machine.Cpu}), {machine.MemoryMb} MB, {machine.Os}, {machine.Runtime}")
            .AppendLine("- load generator on the same machine (and cores) as the target")
            .AppendLine(CultureInfo.InvariantCulture, $"- command: `{machine.Command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"- at: {machine.At:u}")
            .AppendLine()
            .Append(tables);
        var path = Path.Combine(directory, name + ".md");
        File.WriteAllText(path, md.ToString());
        return path;
    }

    /// <summary><c>250</c> for one point, <c>250-2000</c> for a sweep: the part of a results file's name.</summary>
    public static string Range<T>(IReadOnlyList<SweepPoint<T>> points) => points.Count == 1
        ? points[0].Value.ToString(CultureInfo.InvariantCulture)
        : string.Create(CultureInfo.InvariantCulture, $"{points.Min(p => p.Value)}-{points.Max(p => p.Value)}");

    private static string M<T>(IReadOnlyList<T> runs, Func<T, double> value) => Report.Median(runs, value).ToString("0.##", CultureInfo.InvariantCulture);
}
