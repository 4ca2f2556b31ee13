using System.Diagnostics;
using HdrHistogram;

namespace SupportGrid.Bench;

/// <summary>A thread-safe HdrHistogram of latencies in microseconds (1 us to 5 min, 3 significant digits).</summary>
public sealed class LatencyRecorder
{
    private readonly LongHistogram _histogram = new(TimeSpan.FromMinutes(5).Ticks / TimeSpan.TicksPerMicrosecond, 3);

    public void Record(long startTimestamp, long endTimestamp)
    {
        var micros = Math.Max(1, (long)Stopwatch.GetElapsedTime(startTimestamp, endTimestamp).TotalMicroseconds);
        lock (_histogram)
            _histogram.RecordValue(Math.Min(micros, _histogram.HighestTrackableValue));
    }

    public LatencySummary Summary()
    {
        lock (_histogram)
        {
            if (_histogram.TotalCount == 0)
                return new LatencySummary(0, 0, 0, 0, 0, 0);
            return new LatencySummary(
                _histogram.TotalCount,
                Ms(_histogram.GetValueAtPercentile(50)),
                Ms(_histogram.GetValueAtPercentile(90)),
                Ms(_histogram.GetValueAtPercentile(99)),
                Ms(_histogram.GetValueAtPercentile(99.9)),
                Ms(_histogram.GetMaxValue()));
        }
    }

    private static double Ms(long micros) => Math.Round(micros / 1000.0, 3);
}

/// <summary>Latency percentiles in milliseconds.</summary>
public sealed record LatencySummary(long Count, double P50, double P90, double P99, double P999, double Max);
