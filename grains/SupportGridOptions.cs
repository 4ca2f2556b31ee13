namespace SupportGrid.Grains;

/// <summary>Timing of the chat flow. Bound from the <c>SupportGrid:Flow</c> configuration section.</summary>
public sealed class FlowOptions
{
    public const string Section = "SupportGrid:Flow";

    /// <summary>How long an agent has to accept an offer before it goes to the next agent.</summary>
    public TimeSpan OfferTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How often waiting customers are told a changed position (coalesced, never once per dequeue).</summary>
    public TimeSpan PositionUpdateInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>How long an ended session can still be resumed to read its transcript.</summary>
    public TimeSpan EndedSessionGrace { get; set; } = TimeSpan.FromHours(1);

    /// <summary>Estimated handling time per queue position before any chat has been dequeued.</summary>
    public TimeSpan InitialSecondsPerPosition { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an agent whose consoles all disconnected stays available (a console reload is not going offline).
    /// Their open offers are withdrawn and re-routed at once; after the grace the agent is offline.</summary>
    public TimeSpan AgentDisconnectGrace { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long an accepted (claimed) customer may go without the accepting agent confirming the chat started.
    /// If the agent's silo dies in between, the customer goes back to the queue with their place.</summary>
    public TimeSpan ClaimTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>After this many offers in a row timed out, the agent is set away.</summary>
    public int MaxMissedOffers { get; set; } = 3;

    /// <summary>How long a waiting customer with no open connection (closed tab, lost network) keeps their place.
    /// A page reload comes back well within it.</summary>
    public TimeSpan AbandonGrace { get; set; } = TimeSpan.FromSeconds(45);

    /// <summary>How long the grains of an ended chat (its channel, its customers' sessions) stay in memory after it ended,
    /// for the reads that follow an end (transcript, a last resume); then they are deactivated, and a later read loads
    /// them from storage. Without this they stay until Orleans' idle collection (15 minutes), and a busy silo holds every
    /// chat of the last quarter of an hour.</summary>
    public TimeSpan EndedLinger { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Most events kept in one channel's transcript.</summary>
    public int MaxChannelEvents { get; set; } = 10_000;
}

/// <summary>Storage and stream names the grains use.</summary>
public static class GrainStorage
{
    public const string Name = "support";
}
