using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>
/// The order in which waiting customers are served: higher priority first; within a priority, the oldest request first
/// (by the original request time, which a re-queued customer keeps); ties by session id.
/// </summary>
public sealed class WaitingOrder(Func<QueueEntry, int> priority) : IComparer<QueueEntry>
{
    public int Compare(QueueEntry? x, QueueEntry? y)
    {
        if (ReferenceEquals(x, y))
            return 0;
        if (x is null)
            return 1;
        if (y is null)
            return -1;
        var byPriority = priority(y).CompareTo(priority(x));
        if (byPriority != 0)
            return byPriority;
        var byAge = x.EnqueuedAt.CompareTo(y.EnqueuedAt);
        return byAge != 0 ? byAge : x.SessionId.CompareTo(y.SessionId);
    }

    /// <summary>Where <paramref name="entry"/> goes in the already ordered <paramref name="waiting"/> list.</summary>
    public int InsertionIndex(List<QueueEntry> waiting, QueueEntry entry)
    {
        var index = waiting.BinarySearch(entry, this);
        return index < 0 ? ~index : index;
    }
}
