using System.Globalization;
using System.Text.Json;
using ScottPlot;

namespace SupportGrid.Bench;

/// <summary>PNG plots of a sweep with ScottPlot: one line per target and metric, medians of the runs at each point.</summary>
public static class Plots
{
    /// <summary>One plotted line: its legend, its points, its target (the colour) and its metric (the line pattern).</summary>
    public sealed record Series(string Label, double[] X, double[] Y, int Target = 0, int Metric = 0);

    private static readonly LinePattern[] Patterns = [LinePattern.Solid, LinePattern.Dashed, LinePattern.Dotted, LinePattern.DenselyDashed];

    /// <summary>Writes a line plot to <paramref name="path"/> (800 x 500) and returns the path; lines with no point are left out.
    /// With <paramref name="logY"/> the y axis is logarithmic (latencies: a backlog's seconds beside sub-millisecond
    /// medians, where a linear axis flattens every small value onto zero).</summary>
    public static string Write(string path, string title, string xLabel, string yLabel, IEnumerable<Series> series, bool logY = false)
    {
        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        var lines = series.Where(s => s.X.Length > 0).ToList();
        foreach (var line in lines)
        {
            var scatter = plot.Add.Scatter(line.X, logY ? line.Y.Select(Log).ToArray() : line.Y);
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
        if (logY && lines.SelectMany(l => l.Y).ToList() is { Count: > 0 } ys)
        {
            // Whole decades, a little beyond the data so that no marker sits on the frame; a labelled tick at every
            // decade and unlabelled ones at 2..9 times it.
            var (low, high) = (Math.Floor(Log(ys.Min()) - 0.05), Math.Ceiling(Log(ys.Max()) + 0.05));
            var ticks = new ScottPlot.TickGenerators.NumericManual();
            for (var decade = low; decade <= high; decade++)
            {
                ticks.AddMajor(decade, Math.Pow(10, decade).ToString("#,0.##", CultureInfo.InvariantCulture));
                for (var m = 2; m <= 9 && decade < high; m++)
                    ticks.AddMinor(decade + Math.Log10(m));
            }
            plot.Axes.Left.TickGenerator = ticks;
            plot.Axes.SetLimits(0, limits.Right, low, high);
        }
        else
        {
            plot.Axes.SetLimits(0, limits.Right, 0, limits.Top);
        }
        plot.ShowLegend(Alignment.UpperLeft);
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        plot.SavePng(path, 800, 500);
        return path;
    }

    /// <summary>Values under 0.01 (none are expected for latencies) are drawn at 0.01.</summary>
    private static double Log(double value) => Math.Log10(Math.Max(value, 0.01));

    /// <summary>
    /// The plots of a sweep saved by this tool (its <c>bench/results/*.json</c>), written again into <paramref name="directory"/>
    /// without running anything: after a change of the plots, or for an older sweep. Returns the plot's path.
    /// </summary>
    public static string Replot(string resultsJson, string directory)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(resultsJson));
        var root = document.RootElement;
        var scenario = root.TryGetProperty("scenario", out var s) ? s.GetString() : null;
        if (!root.TryGetProperty("points", out var points) || points.GetArrayLength() < 2)
            throw new InvalidOperationException($"{resultsJson} is not a sweep of two points or more: it has no plot.");
        return scenario switch
        {
            "chat" => Chat(directory, ReadPoints<ChatRun>(points)),
            "route" => Route(directory, ReadPoints<RouteResult>(points)),
            "broadcast" => Broadcast(directory, ReadPoints<BroadcastResult>(points)),
            "connect" => Connect(directory, ReadPoints<ConnectResult>(points)),
            _ => throw new InvalidOperationException($"{resultsJson}: scenario '{scenario}' has no plot."),
        };
    }

    /// <summary>The sweep points of a saved results file (<see cref="Replot"/>).</summary>
    public static IReadOnlyList<SweepPoint<T>> ReadPoints<T>(string resultsJson)
    {
        using var document = JsonDocument.Parse(File.ReadAllText(resultsJson));
        return ReadPoints<T>(document.RootElement.GetProperty("points"));
    }

    private static List<SweepPoint<T>> ReadPoints<T>(JsonElement points) =>
        points.Deserialize<List<SweepPoint<T>>>(SweepReport.Json) ?? throw new InvalidOperationException("No sweep points.");

    public static string Chat(string directory, IReadOnlyList<SweepPoint<ChatRun>> points) =>
        Write(Path.Combine(directory, "chat-latency.png"), $"chat: sender -> receiver latency, {points[0].Targets[0].Runs[0].Result.Chats} chats",
            "total rate (messages/s)", "ms (median of runs, log scale)",
            ForEachTarget(points, [("p50", r => Report.Median(r, x => x.Result.Latency.P50)), ("p99", r => Report.Median(r, x => x.Result.Latency.P99))]), logY: true);

    public static string Route(string directory, IReadOnlyList<SweepPoint<RouteResult>> points) =>
        Write(Path.Combine(directory, "route-latency.png"), "route: request -> offer and request -> connected", "arrivals per second (R)", "ms (median of runs, log scale)",
            ForEachTarget(points, [
                ("offer p99", r => Report.Median(r, x => x.ToOffer.P99)),
                ("connected p50", r => Report.Median(r, x => x.ToConnected.P50)),
                ("connected p99", r => Report.Median(r, x => x.ToConnected.P99)),
            ]), logY: true);

    public static string Broadcast(string directory, IReadOnlyList<SweepPoint<BroadcastResult>> points) =>
        Write(Path.Combine(directory, "broadcast-last.png"), "broadcast: time until the last customer has the navigation", "customers in the channel (N)", "ms (median of runs, log scale)",
            ForEachTarget(points, [("p50", r => Report.Median(r, x => x.Last.P50)), ("p99", r => Report.Median(r, x => x.Last.P99))]), logY: true);

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
