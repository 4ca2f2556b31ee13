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

    /// <summary>Most events kept in one channel's transcript.</summary>
    public int MaxChannelEvents { get; set; } = 10_000;
}

/// <summary>Storage and stream names the grains use.</summary>
public static class GrainStorage
{
    public const string Name = "support";
}
