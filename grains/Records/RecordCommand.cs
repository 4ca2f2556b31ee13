using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Records;

/// <summary>A write to the usage records, queued by a grain and written in batches by <see cref="SessionRecorder"/>.</summary>
public abstract record RecordCommand(Guid SessionId, DateTimeOffset At);

/// <summary>A session was requested: creates its record.</summary>
public sealed record SessionRequested(Guid SessionId, DateTimeOffset At, string Site, string Queue, CustomerInfo Customer, string PageUrl, string? PageTitle)
    : RecordCommand(SessionId, At);

/// <summary>A step without other effect on the summary (offered, declined, timed out, withdrawn).</summary>
public sealed record SessionStepped(Guid SessionId, DateTimeOffset At, string Kind, string? AgentId, string? Detail)
    : RecordCommand(SessionId, At)
{
    /// <summary>Names a step that a retry may record again (a transfer retried after a lost silo): the store keeps the
    /// first step of a session with a given key and ignores the others. Null for steps that may repeat.</summary>
    public string? Key { get; init; }

    /// <summary>A transfer step: where to (the queue, or the agent asked for and their queue) and the note, if any. Keyed
    /// by the transfer, so a retried transfer leaves one step.</summary>
    public static SessionStepped Transferred(Guid sessionId, DateTimeOffset at, string fromAgentId, string queueKey, string? preferredAgentId,
        string? note, Guid transferId)
    {
        var target = preferredAgentId is null ? queueKey : $"{preferredAgentId} ({queueKey})";
        return new(sessionId, at, StepKinds.Transferred, fromAgentId, note is null ? target : $"{target}: {note}")
        {
            Key = transferId == Guid.Empty ? null : $"transferred:{transferId:N}",
        };
    }
}

/// <summary>The keys the stores give the steps a session has at most once (see <see cref="SessionStepped.Key"/>).</summary>
public static class StepKeys
{
    /// <summary>The requested step: a retried start records it again.</summary>
    public const string Requested = "requested";

    /// <summary>The session's end (ended, abandoned, left the queue, refused): the summary keeps the first outcome, and
    /// so do the steps.</summary>
    public const string Closed = "closed";
}

/// <summary>An agent accepted: sets the accept time (the first), adds the agent, names the channel.</summary>
public sealed record SessionAccepted(Guid SessionId, DateTimeOffset At, string AgentId, Guid ChannelId)
    : RecordCommand(SessionId, At);

/// <summary>The session ended with <paramref name="Outcome"/> (see <see cref="SessionOutcome"/>).</summary>
public sealed record SessionClosed(Guid SessionId, DateTimeOffset At, string Outcome, string? Detail)
    : RecordCommand(SessionId, At);

/// <summary>The channel's transcript, saved when the channel ends.</summary>
public sealed record TranscriptSaved(Guid SessionId, DateTimeOffset At, Guid ChannelId, IReadOnlyList<ChannelEvent> Events)
    : RecordCommand(SessionId, At);
