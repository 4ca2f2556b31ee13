using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Queue;

/// <summary>
/// A queue's waiting customers: in memory, kept in serving order (<see cref="WaitingOrder"/>) with a lookup by session;
/// in storage, in pages by arrival (<see cref="WaitingPage"/>), so adding or removing one customer writes one page of at
/// most <see cref="WaitingPage.Size"/> entries however long the queue is. Every operation is O(log n) plus a memory move.
/// </summary>
/// <remarks>
/// A claimed customer (an agent is starting the chat) leaves the serving order at once but stays in its page until the
/// claim is released (<see cref="Release"/>: the chat started, or the claim lapsed). Claiming therefore writes nothing,
/// and a queue that restarts in between finds the customer waiting again rather than lost: the customer grain accepts
/// only one agent, so offering them again cannot give the chat to two.
/// The queue's own record (the page list) is written only when the page list changes or the caller asks for it.
/// </remarks>
public sealed class WaitingList(IPersistentState<QueueState> state, StatePages<WaitingPage> pages, WaitingOrder order)
{
    private readonly List<QueueEntry> _ordered = [];
    private readonly Dictionary<Guid, (QueueEntry Entry, long Arrival)> _bySession = [];
    private readonly Dictionary<Guid, long> _claimed = [];
    // The same customers split by who may take them: those held for one agent (a returning customer waiting for their
    // own agent a while), by that agent, and everyone else, each in serving order. Dispatching walks only the lists of
    // agents with room and the unheld customers, so a long queue of customers waiting for someone else costs nothing.
    private readonly List<QueueEntry> _unheld = [];
    private readonly Dictionary<string, List<QueueEntry>> _heldFor = [];
    private readonly Dictionary<Guid, string> _holder = [];

    private QueueState S => state.State;

    public int Count => _ordered.Count;

    /// <summary>Waiting customers in serving order.</summary>
    public IReadOnlyList<QueueEntry> InOrder => _ordered;

    /// <summary>Waiting customers any agent may take, in serving order.</summary>
    public IReadOnlyList<QueueEntry> Unheld => _unheld;

    /// <summary>Customers held for <paramref name="agentId"/>, in serving order.</summary>
    public IReadOnlyList<QueueEntry> HeldFor(string agentId) => _heldFor.TryGetValue(agentId, out var held) ? held : [];

    /// <summary>Every customer held for an agent, with that agent.</summary>
    public IEnumerable<(QueueEntry Entry, string AgentId)> Held =>
        _heldFor.SelectMany(pair => pair.Value.Select(entry => (entry, pair.Key)));

    /// <summary>The agent a waiting customer is held for, if any.</summary>
    public string? HolderOf(Guid sessionId) => _holder.GetValueOrDefault(sessionId);

    /// <summary>Keeps a waiting customer for <paramref name="agentId"/> only, until <see cref="Unhold"/>.</summary>
    public void Hold(Guid sessionId, string agentId)
    {
        if (!_bySession.TryGetValue(sessionId, out var held) || _holder.ContainsKey(sessionId))
            return;
        _unheld.RemoveAt(_unheld.BinarySearch(held.Entry, order));
        if (!_heldFor.TryGetValue(agentId, out var list))
            _heldFor[agentId] = list = [];
        list.Insert(order.InsertionIndex(list, held.Entry), held.Entry);
        _holder[sessionId] = agentId;
    }

    /// <summary>Lets any agent take a held customer again. Returns false if it was not held.</summary>
    public bool Unhold(Guid sessionId)
    {
        if (!_holder.ContainsKey(sessionId))
            return false;
        var entry = _bySession[sessionId].Entry;
        TakeOut(entry);
        _unheld.Insert(order.InsertionIndex(_unheld, entry), entry);
        return true;
    }

    public bool Contains(Guid sessionId) => _bySession.ContainsKey(sessionId);

    /// <summary>1-based position in serving order, or null if not waiting.</summary>
    public int? PositionOf(Guid sessionId) =>
        _bySession.TryGetValue(sessionId, out var held) ? _ordered.BinarySearch(held.Entry, order) + 1 : null;

    /// <summary>Adds a customer (not already waiting); returns its 0-based index in serving order.</summary>
    public int Add(QueueEntry entry)
    {
        var arrival = S.NextArrival++;
        var page = arrival / WaitingPage.Size;
        pages.Change(page).Entries[entry.SessionId] = entry; // listed in the record by the next save
        return Insert(entry, arrival);
    }

    /// <summary>Removes a waiting customer; returns its entry, or null if it was not waiting.</summary>
    public QueueEntry? Remove(Guid sessionId)
    {
        if (!_bySession.Remove(sessionId, out var held))
            return null;
        _ordered.RemoveAt(_ordered.BinarySearch(held.Entry, order));
        TakeOut(held.Entry);
        pages.Change(held.Arrival / WaitingPage.Size).Entries.Remove(sessionId);
        return held.Entry;
    }

    /// <summary>Removes a customer from the unheld list or from their agent's list.</summary>
    private void TakeOut(QueueEntry entry)
    {
        if (!_holder.Remove(entry.SessionId, out var agentId))
        {
            _unheld.RemoveAt(_unheld.BinarySearch(entry, order));
            return;
        }
        var list = _heldFor[agentId];
        list.RemoveAt(list.BinarySearch(entry, order));
        if (list.Count == 0)
            _heldFor.Remove(agentId);
    }

    /// <summary>Takes a waiting customer out of the serving order, keeping it stored until <see cref="Release"/>.</summary>
    public QueueEntry? Claim(Guid sessionId)
    {
        if (!_bySession.Remove(sessionId, out var held))
            return null;
        _ordered.RemoveAt(_ordered.BinarySearch(held.Entry, order));
        TakeOut(held.Entry);
        _claimed[sessionId] = held.Arrival;
        return held.Entry;
    }

    /// <summary>Forgets a customer for good: a claimed one, or (after a restart lost the claim) a waiting one.</summary>
    public bool Release(Guid sessionId)
    {
        if (_claimed.Remove(sessionId, out var arrival))
        {
            pages.Change(arrival / WaitingPage.Size).Entries.Remove(sessionId);
            return true;
        }
        return Remove(sessionId) is not null;
    }

    /// <summary>Reads the pages at activation; moves a queue stored by the first version (all in one record) into pages.</summary>
    public async Task LoadAsync()
    {
        await pages.LoadAsync(S.WaitingPages);
        foreach (var (number, page) in pages.All())
            foreach (var (sessionId, entry) in page.Entries)
                if (!_bySession.ContainsKey(sessionId))
                    Insert(entry, number * WaitingPage.Size); // the arrival's page is all that matters once stored
        // NextArrival is written with the record, not with every page: start past every stored page.
        if (S.WaitingPages.Count > 0)
            S.NextArrival = Math.Max(S.NextArrival, (S.WaitingPages.Max() + 1) * WaitingPage.Size);
        if (S.Waiting.Count == 0)
            return;
        foreach (var entry in S.Waiting.Where(e => !Contains(e.SessionId)))
            Add(entry);
        S.Waiting = [];
        await SaveAsync(wholeRecord: true);
    }

    /// <summary>Writes the changed pages, then the queue's own record (which lists the pages) if the list changed or
    /// <paramref name="wholeRecord"/>; returns whether it wrote the record.</summary>
    public async Task<bool> SaveAsync(bool wholeRecord)
    {
        await pages.WriteChangedAsync(page => page.Entries.Count == 0);
        if (!wholeRecord && S.WaitingPages.SetEquals(pages.Numbers))
            return false;
        S.WaitingPages = pages.Numbers.ToHashSet();
        await state.WriteStateAsync();
        return true;
    }

    private int Insert(QueueEntry entry, long arrival)
    {
        _bySession[entry.SessionId] = (entry, arrival);
        var index = order.InsertionIndex(_ordered, entry);
        _ordered.Insert(index, entry);
        _unheld.Insert(order.InsertionIndex(_unheld, entry), entry);
        return index;
    }
}
