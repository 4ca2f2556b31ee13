using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Records;

/// <summary>The durable usage-record store (SQLite in standalone mode, PostgreSQL in a cluster).</summary>
public interface ISessionRecordStore
{
    /// <summary>Creates the schema if it is missing.</summary>
    Task InitializeAsync(CancellationToken cancellationToken);

    /// <summary>Applies a batch of commands in order, in one transaction.</summary>
    Task WriteAsync(IReadOnlyList<RecordCommand> batch, CancellationToken cancellationToken);

    Task<IReadOnlyList<SessionSummary>> QueryAsync(SessionQuery query, CancellationToken cancellationToken);

    Task<SessionRecord?> GetAsync(Guid sessionId, CancellationToken cancellationToken);
}
