namespace SupportGrid.GrainInterfaces;

/// <summary>One session's usage record as listed: who, where, when, how it ended, which agents.</summary>
[GenerateSerializer, Immutable, Alias("sg.SessionSummary")]
public sealed record SessionSummary(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Site,
    [property: Id(2)] string Queue,
    [property: Id(3)] CustomerInfo Customer,
    [property: Id(4)] string PageUrl,
    [property: Id(5)] string? PageTitle,
    [property: Id(6)] DateTimeOffset RequestedAt,
    [property: Id(7)] DateTimeOffset? AcceptedAt,
    [property: Id(8)] DateTimeOffset? EndedAt,
    [property: Id(9)] string? Outcome,
    [property: Id(10)] IReadOnlyList<string> Agents,
    [property: Id(11)] Guid? ChannelId);

/// <summary>One step in a session's life: requested, offered, declined, offer_timed_out, offer_withdrawn, accepted, ended, abandoned, left_queue.</summary>
[GenerateSerializer, Immutable, Alias("sg.SessionStep")]
public sealed record SessionStep(
    [property: Id(0)] DateTimeOffset At,
    [property: Id(1)] string Kind,
    [property: Id(2)] string? AgentId,
    [property: Id(3)] string? Detail);

/// <summary>A session's full record: the summary, every step, and the transcript.</summary>
[GenerateSerializer, Immutable, Alias("sg.SessionRecord")]
public sealed record SessionRecord(
    [property: Id(0)] SessionSummary Summary,
    [property: Id(1)] IReadOnlyList<SessionStep> Steps,
    [property: Id(2)] IReadOnlyList<ChannelEvent> Transcript);

/// <summary>Which records to list. Times filter on when the session was requested; <see cref="Queue"/> is <c>site/queue</c>.</summary>
[GenerateSerializer, Immutable, Alias("sg.SessionQuery")]
public sealed record SessionQuery(
    [property: Id(0)] DateTimeOffset? From,
    [property: Id(1)] DateTimeOffset? To,
    [property: Id(2)] string? Queue,
    [property: Id(3)] string? Agent,
    [property: Id(4)] int Limit);

/// <summary>Step kinds in a session record.</summary>
public static class StepKinds
{
    public const string Requested = "requested";
    public const string Offered = "offered";
    public const string Declined = "declined";
    public const string OfferTimedOut = "offer_timed_out";
    public const string OfferWithdrawn = "offer_withdrawn";
    public const string Accepted = "accepted";
    public const string Ended = "ended";
    public const string Abandoned = "abandoned";
    public const string LeftQueue = "left_queue";
    public const string OfflineMessage = "offline_message";
    public const string Transferred = "transferred";
    public const string RefusedOffline = "refused_offline";
    public const string Overflowed = "overflowed";
    public const string Invited = "invited";
    public const string TimedOut = "timed_out";
}

/// <summary>
/// Reads usage records (supervisors' reports). A stateless worker: any silo answers from the shared record store.
/// </summary>
[Alias("sg.IRecordsGrain")]
public interface IRecordsGrain : IGrainWithIntegerKey
{
    /// <summary>Records matching the query, newest first.</summary>
    [Alias("Query")]
    Task<IReadOnlyList<SessionSummary>> QueryAsync(SessionQuery query);

    /// <summary>One session's full record, or null.</summary>
    [Alias("Get")]
    Task<SessionRecord?> GetAsync(Guid sessionId);
}
