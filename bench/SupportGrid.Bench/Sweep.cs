using System.Globalization;

namespace SupportGrid.Bench;

/// <summary>One point of a sweep (a rate, or a number of customers) with every target's runs at that point.</summary>
public sealed record SweepPoint<T>(double Value, IReadOnlyList<TargetRuns<T>> Targets);

/// <summary>A target's verdict over a sweep: the highest value held, going up from the lowest point, and the first
/// value that was not held (null when every point was).</summary>
public sealed record Held(string Target, double? Highest, double? FirstMissed);

public static class Sweep
{
    /// <summary>Parses <c>250,500,1000</c> (commas and/or separate tokens); every value must be positive.</summary>
    public static double[] ParseList(IEnumerable<string> tokens) =>
        [.. tokens.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Select(v => double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out var x) && x > 0
                ? x
                : throw new FormatException($"'{v}' is not a positive number."))];

    /// <summary>For each target: the highest point held such that every lower point was held too.</summary>
    public static IReadOnlyList<Held> HighestHeld<T>(IReadOnlyList<SweepPoint<T>> points, Func<IReadOnlyList<T>, bool> held)
    {
        var names = points.SelectMany(p => p.Targets).Select(t => t.Target).Distinct().ToList();
        return [.. names.Select(name =>
        {
            double? highest = null;
            foreach (var point in points.OrderBy(p => p.Value))
            {
                if (point.Targets.FirstOrDefault(t => t.Target == name) is not { Runs.Count: > 0 } runs)
                    continue;
                if (!held(runs.Runs))
                    return new Held(name, highest, point.Value);
                highest = point.Value;
            }
            return new Held(name, highest, null);
        })];
    }

    /// <summary>The median over a target's runs at each point, for plots: (x, y) pairs in sweep order.</summary>
    public static (double[] X, double[] Y) Series<T>(IReadOnlyList<SweepPoint<T>> points, string target, Func<IReadOnlyList<T>, double?> value)
    {
        var pairs = points
            .Select(p => (p.Value, Runs: p.Targets.FirstOrDefault(t => t.Target == target)?.Runs))
            .Where(p => p.Runs is { Count: > 0 })
            .Select(p => (p.Value, Y: value(p.Runs!)))
            .Where(p => p.Y is not null)
            .ToList();
        return ([.. pairs.Select(p => p.Value)], [.. pairs.Select(p => p.Y!.Value)]);
    }
}
