using ScottPlot;

namespace SupportGrid.Bench;

/// <summary>PNG plots of a sweep with ScottPlot: one line per target and metric, medians of the runs at each point.</summary>
public static class Plots
{
    /// <summary>One plotted line: its legend, its points, its target (the colour) and its metric (the line pattern).</summary>
    public sealed record Series(string Label, double[] X, double[] Y, int Target = 0, int Metric = 0);

    private static readonly LinePattern[] Patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];

    /// <summary>Writes a line plot to <paramref name="path"/> (800 x 500) and returns the path; lines with no point are left out.</summary>
    public static string Write(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        foreach (var line in series.Where(s => s.X.Length > 0))
        {
            var scatter = plot.Add.Scatter(line.X, line.Y);
            scatter.LegendText = line.Label;
            scatter.MarkerSize = 6;
            scatter.LineWidth = 2;
            scatter.Color = palette.GetColor(line.Target);
            scatter.LinePattern = Patterns[line.Metric % Patterns.Length];
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        plot.Axes.AutoScale();
        var limits = plot.Axes.GetLimits();
        plot.Axes.SetLimits(0, limits.Right, 0, limits.Top);
        plot.ShowLegend(Alignment.UpperLeft);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 800, 500);
        return path;
    }

    public static string Chat(string directory, IReadOnlyList<SweepPoint<ChatRun>> points) =>
        Write(Path.Combine(directory, "chat-latency.png"), $"chat: sender -> receiver latency, {points[0].Targets[0].Runs[0].Result.Chats} chats",
            "total rate (messages/s)", "ms (median of runs)",
            ForEachTarget(points, [("p50", r => Report.Median(r, x => x.Result.Latency.P50)), ("p99", r => Report.Median(r, x => x.Result.Latency.P99))]));

    public static string Route(string directory, IReadOnlyList<SweepPoint<RouteResult>> points) =>
        Write(Path.Combine(directory, "route-latency.png"), "route: request -> offer and request -> connected", "arrivals per second (R)", "ms (median of runs)",
            ForEachTarget(points, [
                ("offer p99", r => Report.Median(r, x => x.ToOffer.P99)),
                ("connected p50", r => Report.Median(r, x => x.ToConnected.P50)),
                ("connected p99", r => Report.Median(r, x => x.ToConnected.P99)),
            ]));

    public static string Broadcast(string directory, IReadOnlyList<SweepPoint<BroadcastResult>> points) =>
        Write(Path.Combine(directory, "broadcast-last.png"), "broadcast: time until the last customer has the navigation", "customers in the channel (N)", "ms (median of runs)",
            ForEachTarget(points, [("p50", r => Report.Median(r, x => x.Last.P50)), ("p99", r => Report.Median(r, x => x.Last.P99))]));

    /// <summary>KB per connection from each target's first run (a fresh process; later runs reuse what the GC kept).</summary>
    public static string Connect(string directory, IReadOnlyList<SweepPoint<ConnectResult>> points)
    {
        var queued = points[0].Targets[0].Runs[0].StartChat;
        return Write(Path.Combine(directory, queued ? "connect-kb-queued.png" : "connect-kb-idle.png"),
            queued ? "connect: target RSS per queued customer" : "connect: target RSS per idle connection", "connections (N)", "KB per connection (run 1)",
            ForEachTarget(points, [("KB", r => r[0].KbPerConnection)]));
    }

    private static IEnumerable<Series> ForEachTarget<T>(IReadOnlyList<SweepPoint<T>> points, IReadOnlyList<(string Metric, Func<IReadOnlyList<T>, double?> Value)> metrics)
    {
        foreach (var (target, t) in points.SelectMany(p => p.Targets).Select(t => t.Target).Distinct().Select((name, i) => (name, i)))
        {
            for (var m = 0; m < metrics.Count; m++)
            {
                var (x, y) = Sweep.Series(points, target, metrics[m].Value);
                yield return new Series($"{target} {metrics[m].Metric}", x, y, t, m);
            }
        }
    }
}
