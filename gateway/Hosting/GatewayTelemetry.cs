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
        description: "From a channel event's time (set by the channel grain before storing it) until this gateway received it from " +
                     "the stream: store, publish and stream delivery. Across machines it includes their clocks' difference.");
    private static readonly Histogram<double> RelayDuration = Meter.CreateHistogram<double>("supportgrid.gateway.relay_duration", unit: "ms",
        description: "How long this gateway took to write one channel event to its local members' connections.");

    /// <summary>Records a relayed channel event: its lag on arrival and how long the sends took from <paramref name="received"/>.</summary>
    public static void EventRelayed(DateTimeOffset eventTime, DateTimeOffset arrived, long received)
    {
        RelayLag.Record(Math.Max(0, (arrived - eventTime).TotalMilliseconds));
        RelayDuration.Record(Stopwatch.GetElapsedTime(received).TotalMilliseconds);
    }
}
