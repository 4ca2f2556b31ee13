using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;
using SupportGrid.Silo.Records;

namespace SupportGrid.Grains.Tests;

/// <summary>The standalone record store on a real SQLite file.</summary>
public sealed class RecordStoreTests : IDisposable
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"sg-store-{Guid.NewGuid():N}.db");

    private SqliteSessionRecordStore Open() =>
        new(Options.Create(new RecordsOptions { SqliteConnectionString = $"Data Source={_file};Pooling=False" }));

    public void Dispose() => File.Delete(_file);

    [Fact]
    public async Task RecordsSurviveReopeningTheDatabase()
    {
        var session = Guid.NewGuid();
        var channel = Guid.NewGuid();
        var t0 = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero);
        var customer = new CustomerInfo("Dana, \"the\" shopper", "555-0100", null, "203.0.113.7", "cust-1", true);
        var first = Open();
        await first.InitializeAsync(CancellationToken.None);
        await first.WriteAsync(
        [
            new SessionRequested(session, t0, "demo", "demo/sales", customer, "https://shop.example/", "Shop"),
            new SessionStepped(session, t0.AddSeconds(1), StepKinds.Offered, "bob", null),
            new SessionStepped(session, t0.AddSeconds(21), StepKinds.OfferTimedOut, "bob", null),
            new SessionStepped(session, t0.AddSeconds(22), StepKinds.Offered, "alice", null),
            new SessionAccepted(session, t0.AddSeconds(25), "alice", channel),
            new SessionAccepted(session, t0.AddSeconds(26), "alice", channel),
            new TranscriptSaved(session, t0.AddSeconds(60), channel,
                [new ChannelEvent(1, EventTypes.Joined, new Participant(Roles.Agent, "Alice"), "Alice joined the chat.", null, t0.AddSeconds(25))]),
            new SessionClosed(session, t0.AddSeconds(60), SessionOutcome.Ended, null),
        ], CancellationToken.None);

        var reopened = Open();
        await reopened.InitializeAsync(CancellationToken.None);
        var record = await reopened.GetAsync(session, CancellationToken.None);

        Assert.NotNull(record);
        Assert.Equal(customer, record.Summary.Customer);
        Assert.Equal((t0, t0.AddSeconds(25), t0.AddSeconds(60)), (record.Summary.RequestedAt, record.Summary.AcceptedAt!.Value, record.Summary.EndedAt!.Value));
        Assert.Equal(["alice"], record.Summary.Agents);
        Assert.Equal(
            [StepKinds.Requested, StepKinds.Offered, StepKinds.OfferTimedOut, StepKinds.Offered, StepKinds.Accepted, StepKinds.Accepted, StepKinds.Ended],
            record.Steps.Select(s => s.Kind));
        Assert.Equal("Alice joined the chat.", Assert.Single(record.Transcript).Text);

        Assert.Single(await reopened.QueryAsync(new SessionQuery(t0, t0.AddMinutes(1), "demo/sales", "alice", 10), CancellationToken.None));
        Assert.Empty(await reopened.QueryAsync(new SessionQuery(null, null, null, "bob", 10), CancellationToken.None));
        Assert.Empty(await reopened.QueryAsync(new SessionQuery(t0.AddSeconds(1), null, null, null, 10), CancellationToken.None));
        Assert.Null(await reopened.GetAsync(Guid.NewGuid(), CancellationToken.None));
    }
}
