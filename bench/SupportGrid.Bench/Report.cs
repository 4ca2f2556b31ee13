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

/// <summary>Prints and saves results: a text table, a markdown table and the full JSON.</summary>
public static class Report
{
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    public static string ChatTable(IReadOnlyList<ChatRun> runs)
    {
        var rows = new StringBuilder();
        rows.AppendLine("| run | chats | rate target | rate sent | messages | delivered once | lost | dup | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms | ack p50 ms | ack p99 ms | setup s | missed joins | target RSS MB |");
        rows.AppendLine("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
        foreach (var run in runs)
        {
            var r = run.Result;
            rows.AppendLine(Row(run.Run.ToString(CultureInfo.InvariantCulture), r.Chats, r.TargetRate, r.AchievedRate, r.Sent, r.Delivered - r.Duplicates, r.Lost, r.Duplicates,
                r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Latency.P999, r.Latency.Max, r.Ack.P50, r.Ack.P99, r.SetupSeconds,
                r.MissedJoins, run.TargetRssMbAfter));
        }
        if (runs.Count > 1)
        {
            var r = runs.Select(x => x.Result).ToList();
            rows.AppendLine(Row($"median of {runs.Count}", r[0].Chats, r[0].TargetRate, Median(r, x => x.AchievedRate), r[0].Sent,
                null, null, null,
                Median(r, x => x.Latency.P50), Median(r, x => x.Latency.P90), Median(r, x => x.Latency.P99), Median(r, x => x.Latency.P999),
                Median(r, x => x.Latency.Max), Median(r, x => x.Ack.P50), Median(r, x => x.Ack.P99), Median(r, x => x.SetupSeconds),
                null, runs.Max(x => x.TargetRssMbAfter)));
        }
        return rows.ToString();
    }

    public static double Median<T>(IReadOnlyList<T> items, Func<T, double> value)
    {
        var sorted = items.Select(value).Order().ToArray();
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string Row(string run, int chats, double target, double achieved, int messages, int? once, int? lost, int? dup,
        double p50, double p90, double p99, double p999, double max, double ackP50, double ackP99, double setup, int? missedJoins, double? rss) =>
        string.Create(CultureInfo.InvariantCulture,
            $"| {run} | {chats} | {target} | {achieved} | {messages} | {Opt(once)} | {Opt(lost)} | {Opt(dup)} | {p50:F2} | {p90:F2} | {p99:F2} | {p999:F2} | {max:F2} | {ackP50:F2} | {ackP99:F2} | {setup:F1} | {Opt(missedJoins)} | {Opt(rss)} |");

    private static string Opt<T>(T? value) where T : struct => value is { } v ? string.Create(CultureInfo.InvariantCulture, $"{v}") : "-";

    /// <summary>Writes <c>chat-{chats}c-{rate}r-{time}.json</c> and <c>.md</c> into <paramref name="directory"/>; returns the markdown path.</summary>
    public static string SaveChat(string directory, MachineInfo machine, IReadOnlyList<ChatRun> runs)
    {
        Directory.CreateDirectory(directory);
        var first = runs[0].Result;
        var name = string.Create(CultureInfo.InvariantCulture, $"chat-{first.Chats}c-{first.TargetRate}r-{machine.At:yyyyMMdd-HHmmss}");
        File.WriteAllText(Path.Combine(directory, name + ".json"), JsonSerializer.Serialize(new { scenario = "chat", machine, runs }, Json));
        var md = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"# chat: {first.Chats} chats, {first.TargetRate} msg/s")
            .AppendLine()
            .AppendLine(CultureInfo.InvariantCulture, $"- machine: {machine.Cores} cores ({machine.Cpu}), {machine.MemoryMb} MB, {machine.Os}, {machine.Runtime}")
            .AppendLine("- load generator on the same machine (and cores) as the target")
            .AppendLine(CultureInfo.InvariantCulture, $"- command: `{machine.Command}`")
            .AppendLine(CultureInfo.InvariantCulture, $"- at: {machine.At:u}")
            .AppendLine()
            .Append(ChatTable(runs));
        var path = Path.Combine(directory, name + ".md");
        File.WriteAllText(path, md.ToString());
        return path;
    }
}
