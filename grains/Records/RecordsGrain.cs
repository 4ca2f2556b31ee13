using Orleans.Concurrency;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Records;

/// <summary>Reads usage records from the store; flushes this silo's queued writes first so a report sees what just happened here.</summary>
[StatelessWorker]
public sealed class RecordsGrain(ISessionRecordStore store, SessionRecorder recorder) : Grain, IRecordsGrain
{
    public const int MaxLimit = 5000;

    public async Task<IReadOnlyList<SessionSummary>> QueryAsync(SessionQuery query)
    {
        await recorder.FlushAsync();
        return await store.QueryAsync(query with { Limit = Math.Clamp(query.Limit, 1, MaxLimit) }, CancellationToken.None);
    }

    public async Task<SessionRecord?> GetAsync(Guid sessionId)
    {
        await recorder.FlushAsync();
        return await store.GetAsync(sessionId, CancellationToken.None);
    }
}
