using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace SupportGrid.Grains;

/// <summary>
/// SupportGrid's own instruments (meter <c>SupportGrid</c>), exported beside Orleans' own by the silo's telemetry.
/// Cheap on the hot path: counters and the histogram are lock-free adds; the gauges are read only when a collector asks
/// (a scrape), from the grains activated on this silo, so a queue or an agent adds no work per message or per call.
/// Each silo reports what its own activations hold; sum over silos for the cluster.
/// </summary>
public static class SupportGridMetrics
{
    public const string MeterName = "SupportGrid";

    private static readonly Meter Meter = new(MeterName);
    private static readonly ConcurrentDictionary<object, (string Queue, Func<int> Waiting)> Queues = new();
    private static readonly ConcurrentDictionary<object, Func<int>> Agents = new();

    private static readonly Histogram<double> WaitTime = Meter.CreateHistogram<double>("supportgrid.queue.wait_time", unit: "s",
        description: "How long a customer waited in the queue before an agent took the chat.");
    private static readonly Histogram<double> StoreDuration = Meter.CreateHistogram<double>("supportgrid.channel.store_duration", unit: "ms",
        description: "How long a channel took to store an event (a message, a navigation) before publishing it.");
    private static readonly Histogram<double> PublishDuration = Meter.CreateHistogram<double>("supportgrid.channel.publish_duration", unit: "ms",
        description: "How long a channel took to hand a stored event to its stream (the stream queue's answer).");
    private static readonly Counter<long> Declined = Meter.CreateCounter<long>("supportgrid.offers.declined", unit: "{offer}",
        description: "Chat offers an agent declined.");
    private static readonly Counter<long> TimedOut = Meter.CreateCounter<long>("supportgrid.offers.timed_out", unit: "{offer}",
        description: "Chat offers that expired unanswered.");

    static SupportGridMetrics()
    {
        Meter.CreateObservableGauge("supportgrid.queue.length", ObserveQueues, unit: "{customer}",
            description: "Customers waiting, per queue, in the queue activations on this silo.");
        Meter.CreateObservableGauge("supportgrid.chats.active", () => Agents.Values.Sum(chats => chats()), unit: "{chat}",
            description: "Chats held by the agents activated on this silo.");
    }

    /// <summary>Reports a queue activation's waiting count until the returned handle is disposed (on deactivation).</summary>
    public static IDisposable TrackQueue(string queue, Func<int> waiting)
    {
        var key = new object();
        Queues[key] = (queue, waiting);
        return new Untrack(() => Queues.TryRemove(key, out _));
    }

    /// <summary>Reports an agent activation's open chats until the returned handle is disposed.</summary>
    public static IDisposable TrackAgent(Func<int> chats)
    {
        var key = new object();
        Agents[key] = chats;
        return new Untrack(() => Agents.TryRemove(key, out _));
    }

    public static void ChatTaken(string queue, TimeSpan waited) =>
        WaitTime.Record(Math.Max(0, waited.TotalSeconds), new KeyValuePair<string, object?>("queue", queue));

    /// <summary>Records the two steps of a channel event before its sender is answered (timestamps from <see cref="System.Diagnostics.Stopwatch.GetTimestamp"/>).</summary>
    public static void ChannelEventSent(long started, long stored, long published)
    {
        StoreDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(started, stored).TotalMilliseconds);
        PublishDuration.Record(System.Diagnostics.Stopwatch.GetElapsedTime(stored, published).TotalMilliseconds);
    }

    public static void OfferDeclined(string queue) => Declined.Add(1, new KeyValuePair<string, object?>("queue", queue));

    public static void OfferTimedOut(string queue) => TimedOut.Add(1, new KeyValuePair<string, object?>("queue", queue));

    private static IEnumerable<Measurement<int>> ObserveQueues()
    {
        foreach (var (queue, waiting) in Queues.Values)
            yield return new Measurement<int>(waiting(), new KeyValuePair<string, object?>("queue", queue));
    }

    private sealed class Untrack(Action untrack) : IDisposable
    {
        public void Dispose() => untrack();
    }
}
