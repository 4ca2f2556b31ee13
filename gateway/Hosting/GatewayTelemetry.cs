using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace SupportGrid.Gateway.Hosting;

/// <summary>The gateway's own instruments live in the <c>SupportGrid</c> meter too (exported by the shared telemetry setup).</summary>
public static class GatewayTelemetry
{
    public const string MeterName = "SupportGrid";

    /// <summary>The one meter of the gateway's instruments.</summary>
    internal static readonly Meter Meter = new(MeterName);

    private static readonly Histogram<double> RelayLag = Meter.CreateHistogram<double>("supportgrid.gateway.relay_lag", unit: "ms",
        description: "From a channel event's time (set by the channel grain before storing it) until this gateway had it to send: " +
                     "from the stream (path=stream: store, publish and stream delivery) or from the hub call that posted it " +
                     "(path=direct: store and the grain's answer). Across machines it includes their clocks' difference.");
    private static readonly Histogram<double> RelayDuration = Meter.CreateHistogram<double>("supportgrid.gateway.relay_duration", unit: "ms",
        description: "How long this gateway took to write one channel event to its local members' connections.");

    private static readonly KeyValuePair<string, object?> Stream = new("path", "stream");
    private static readonly KeyValuePair<string, object?> Direct = new("path", "direct");

    /// <summary>Records a channel event sent to the local members: its lag on arrival and how long the sends took from
    /// <paramref name="received"/>; <paramref name="direct"/> when it came from the hub call that posted it, not the stream.</summary>
    public static void EventRelayed(DateTimeOffset eventTime, DateTimeOffset arrived, long received, bool direct = false)
    {
        var path = direct ? Direct : Stream;
        RelayLag.Record(Math.Max(0, (arrived - eventTime).TotalMilliseconds), path);
        RelayDuration.Record(Stopwatch.GetElapsedTime(received).TotalMilliseconds, path);
    }
}
