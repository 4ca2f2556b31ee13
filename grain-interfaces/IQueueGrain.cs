namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One queue of one site: customers waiting in order and the agents available to it, and the offers between them.
/// Key: <c>{site}/{queue}</c> (see <see cref="QueueKey"/>).
/// </summary>
[Alias("sg.IQueueGrain")]
public interface IQueueGrain : IGrainWithStringKey
{
    /// <summary>Whether the queue takes chats now (business hours, agents available).</summary>
    [Alias("GetAvailability")]
    Task<QueueAvailability> GetAvailabilityAsync();

    /// <summary>Adds a waiting customer; returns their 1-based position. Enqueuing the same session twice keeps its first place.
    /// Refused with <see cref="ErrorCodes.Offline"/> while the queue is offline.</summary>
    [Alias("Enqueue")]
    Task<int> EnqueueAsync(QueueEntry entry);

    /// <summary>Removes a waiting customer (they ended the chat) and withdraws any offer of them, or ends an agent's claim
    /// of them (the customer grain then refuses that agent). Returns their entry, or null if they were neither waiting
    /// nor claimed here.</summary>
    [Alias("Leave")]
    Task<QueueEntry?> LeaveAsync(Guid sessionId);

    /// <summary>The gateways where a waiting customer is connected (called by the customer grain when they change): the
    /// queue sends their position changes to those gateways directly, batched per gateway. Kept in memory only; a
    /// customer the queue has no gateways for is told through its customer grain, which then calls this.</summary>
    [Orleans.Concurrency.OneWay, Alias("WatchPosition")]
    Task WatchPositionAsync(Guid sessionId, IGatewayObserver[] gateways);

    /// <summary>The 1-based position of a waiting customer, or null if they are not waiting here.</summary>
    [Alias("GetPosition")]
    Task<int?> GetPositionAsync(Guid sessionId);

    /// <summary>An agent serving this queue is available with <paramref name="freeSlots"/> of <paramref name="capacity"/> chats free,
    /// idle since <paramref name="idleSince"/>, with these skill levels. Returns the queue's priority.</summary>
    [Alias("AgentAvailable")]
    Task<int> AgentAvailableAsync(string agentId, int freeSlots, int capacity, DateTimeOffset idleSince, IReadOnlyDictionary<string, int> skills);

    /// <summary>The queue's routing settings in effect.</summary>
    [Alias("GetSettings")]
    Task<QueueSettingsView> GetSettingsAsync();

    /// <summary>Sets the queue's routing at runtime (validated; takes effect at once); null returns to the configured settings.</summary>
    [Alias("UpdateSettings")]
    Task<QueueSettingsView> UpdateSettingsAsync(QueueSettings? settings);

    /// <summary>An agent is no longer available (away, offline); their open offers are withdrawn and re-routed.</summary>
    [Alias("AgentUnavailable")]
    Task AgentUnavailableAsync(string agentId);

    /// <summary>The agent takes the customer. Fails unless the customer is offered to this agent right now.</summary>
    [Alias("ClaimOffer")]
    Task<QueueEntry> ClaimOfferAsync(Guid sessionId, string agentId);

    /// <summary>The accepting agent confirms the claimed customer is in a channel (or gone): the claim is done.</summary>
    [Alias("CompleteClaim")]
    Task CompleteClaimAsync(Guid sessionId);

    /// <summary>Puts back a customer whose claim lapsed and who is still waiting, with their original place; never refused.</summary>
    [Alias("Return")]
    Task ReturnAsync(QueueEntry entry);

    /// <summary>The agent declines; the customer is offered to the next agent and never again to this one.</summary>
    [Alias("DeclineOffer")]
    Task DeclineOfferAsync(Guid sessionId, string agentId);

    /// <summary>Waiting customers in order, open offers and available agents (for operators and tests).</summary>
    [Alias("GetSnapshot")]
    Task<QueueSnapshot> GetSnapshotAsync();
}

/// <summary>Builds and parses queue grain keys.</summary>
public static class QueueKey
{
    public static string For(string site, string queue) => $"{site}/{queue}";

    public static (string Site, string Queue) Parse(string key)
    {
        var slash = key.IndexOf('/');
        return slash < 0 ? (key, "") : (key[..slash], key[(slash + 1)..]);
    }
}
