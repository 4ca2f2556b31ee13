using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Queue;

/// <summary>Persistent state of a queue grain.</summary>
[GenerateSerializer, Alias("sg.QueueState")]
public sealed class QueueState
{
    /// <summary>Waiting customers as the first version stored them, all in this record; moved to pages on activation.</summary>
    [Id(0)] public List<QueueEntry> Waiting { get; set; } = [];

    /// <summary>Agents available to this queue.</summary>
    [Id(1)] public Dictionary<string, AgentAvailability> Agents { get; set; } = [];

    /// <summary>Open offers by session as the first version stored them (one agent each); moved to <see cref="OpenOffers"/> on activation.</summary>
    [Id(2)] public Dictionary<Guid, PendingOffer> Offers { get; set; } = [];

    /// <summary>Agents who declined or missed a customer, by session; never offered that customer again.</summary>
    [Id(3)] public Dictionary<Guid, HashSet<string>> Excluded { get; set; } = [];

    /// <summary>Rolling estimate of seconds between dequeues, for the estimated wait.</summary>
    [Id(4)] public double SecondsPerDequeue { get; set; }

    [Id(5)] public DateTimeOffset? LastDequeueAt { get; set; }

    /// <summary>Customers an agent has claimed but not yet confirmed as connected, by session.</summary>
    [Id(6)] public Dictionary<Guid, ClaimedEntry> Claimed { get; set; } = [];

    /// <summary>Numbers of the pages holding the waiting customers (see <see cref="StatePages{TPage}"/>).</summary>
    [Id(7)] public HashSet<long> WaitingPages { get; set; } = [];

    /// <summary>Next arrival number; a waiting customer is stored in page arrival / <see cref="WaitingPage.Size"/>.</summary>
    [Id(8)] public long NextArrival { get; set; }

    /// <summary>Open offers by session: one agent, or up to the queue's OfferToAgents at once, all with the same deadline.</summary>
    [Id(9)] public Dictionary<Guid, List<PendingOffer>> OpenOffers { get; set; } = [];

    /// <summary>Routing set through the admin API, in place of the configured one; null: the configuration.</summary>
    [Id(10)] public QueueSettings? Settings { get; set; }
}

/// <summary>Up to <see cref="Size"/> waiting customers, by session, in arrival order; one storage record.</summary>
[GenerateSerializer, Alias("sg.WaitingPage")]
public sealed class WaitingPage
{
    public const int Size = 32;

    [Id(0)] public Dictionary<Guid, QueueEntry> Entries { get; set; } = [];
}

[GenerateSerializer, Alias("sg.ClaimedEntry")]
public sealed record ClaimedEntry([property: Id(0)] QueueEntry Entry, [property: Id(1)] string AgentId, [property: Id(2)] DateTimeOffset Until);

[GenerateSerializer, Alias("sg.AgentAvailability")]
public sealed record AgentAvailability(
    [property: Id(0)] int FreeSlots,
    [property: Id(1)] DateTimeOffset IdleSince,
    [property: Id(2)] int Capacity,
    [property: Id(3)] IReadOnlyDictionary<string, int> Skills);

[GenerateSerializer, Alias("sg.PendingOffer")]
public sealed record PendingOffer([property: Id(0)] string AgentId, [property: Id(1)] DateTimeOffset ExpiresAt);
