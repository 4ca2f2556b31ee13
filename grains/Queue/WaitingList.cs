using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Queue;

/// <summary>
/// A queue's waiting customers: in memory, kept in serving order (<see cref="WaitingOrder"/>) with a lookup by session;
/// in storage, in pages by arrival (<see cref="WaitingPage"/>), so adding or removing one customer writes one page of at
/// most <see cref="WaitingPage.Size"/> entries however long the queue is. Every operation is O(log n) plus a memory move.
/// </summary>
public sealed class WaitingList(IPersistentState<QueueState> state, StatePages<WaitingPage> pages, WaitingOrder order)
{
    private readonly List<QueueEntry> _ordered = [];
    private readonly Dictionary<Guid, (QueueEntry Entry, long Arrival)> _bySession = [];

    private QueueState S => state.State;

    public int Count => _ordered.Count;

    /// <summary>Waiting customers in serving order.</summary>
    public IReadOnlyList<QueueEntry> InOrder => _ordered;

    public bool Contains(Guid sessionId) => _bySession.ContainsKey(sessionId);

    /// <summary>1-based position in serving order, or null if not waiting.</summary>
    public int? PositionOf(Guid sessionId) =>
        _bySession.TryGetValue(sessionId, out var held) ? _ordered.BinarySearch(held.Entry, order) + 1 : null;

    /// <summary>Adds a customer (not already waiting); returns its 0-based index in serving order.</summary>
    public int Add(QueueEntry entry)
    {
        var arrival = S.NextArrival++;
        var page = arrival / WaitingPage.Size;
        pages.Change(page).Entries[entry.SessionId] = entry;
        S.WaitingPages.Add(page);
        return Insert(entry, arrival);
    }

    /// <summary>Removes a waiting customer; returns its entry, or null if it was not waiting.</summary>
    public QueueEntry? Remove(Guid sessionId)
    {
        if (!_bySession.Remove(sessionId, out var held))
            return null;
        _ordered.RemoveAt(_ordered.BinarySearch(held.Entry, order));
        pages.Change(held.Arrival / WaitingPage.Size).Entries.Remove(sessionId);
        return held.Entry;
    }

    /// <summary>Reads the pages at activation; moves a queue stored by the first version (all in one record) into pages.</summary>
    public async Task LoadAsync()
    {
        await pages.LoadAsync(S.WaitingPages);
        foreach (var (number, page) in pages.All())
            foreach (var (sessionId, entry) in page.Entries)
                if (!_bySession.ContainsKey(sessionId))
                    Insert(entry, number * WaitingPage.Size); // the arrival's page is all that matters once stored
        if (S.Waiting.Count == 0)
            return;
        foreach (var entry in S.Waiting.Where(e => !Contains(e.SessionId)))
            Add(entry);
        S.Waiting = [];
        await SaveAsync();
    }

    /// <summary>Writes the changed pages, then the queue's own record (which lists the pages).</summary>
    public async Task SaveAsync()
    {
        await pages.WriteChangedAsync(page => page.Entries.Count == 0);
        S.WaitingPages = pages.Numbers.ToHashSet();
        await state.WriteStateAsync();
    }

    private int Insert(QueueEntry entry, long arrival)
    {
        _bySession[entry.SessionId] = (entry, arrival);
        var index = order.InsertionIndex(_ordered, entry);
        _ordered.Insert(index, entry);
        return index;
    }
}
