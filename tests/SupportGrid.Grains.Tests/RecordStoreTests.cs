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

    [Fact]
    public async Task StepsThatARetryRecordsAgainAreKeptOnce()
    {
        var session = Guid.NewGuid();
        var (transfer, other) = (Guid.NewGuid(), Guid.NewGuid());
        var t0 = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
        var customer = new CustomerInfo("Dana", null, null, null, null, false);
        var store = Open();
        await store.InitializeAsync(CancellationToken.None);
        RecordCommand Transferred(int second, Guid id) => SessionStepped.Transferred(session, t0.AddSeconds(second), "alice", "demo/sales", null, "over to you", id);
        RecordCommand[] once =
        [
            new SessionRequested(session, t0, "demo", "demo/sales", customer, "https://shop.example/", null),
            new SessionAccepted(session, t0.AddSeconds(5), "alice", Guid.NewGuid()),
            Transferred(10, transfer),
            new SessionStepped(session, t0.AddSeconds(11), StepKinds.Declined, "bob", null),
        ];
        // A retried start, a retried transfer (in the same batch and in a later one), a repeated decline (a step that can
        // happen twice), another transfer, and two ends of which the first counts.
        await store.WriteAsync([.. once, Transferred(12, transfer)], CancellationToken.None);
        await store.WriteAsync(
        [
            .. once,
            Transferred(20, other),
            new SessionClosed(session, t0.AddSeconds(30), SessionOutcome.Ended, "agent"),
            new SessionClosed(session, t0.AddSeconds(31), SessionOutcome.Abandoned, null),
        ], CancellationToken.None);

        var record = await store.GetAsync(session, CancellationToken.None);

        Assert.NotNull(record);
        Assert.Equal(
            [StepKinds.Requested, StepKinds.Accepted, StepKinds.Accepted, StepKinds.Transferred, StepKinds.Declined, StepKinds.Declined,
                StepKinds.Transferred, StepKinds.Ended],
            record.Steps.OrderBy(s => s.At).Select(s => s.Kind));
        Assert.Equal([t0.AddSeconds(10), t0.AddSeconds(20)], record.Steps.Where(s => s.Kind == StepKinds.Transferred).Select(s => s.At));
        Assert.Equal(SessionOutcome.Ended, record.Summary.Outcome);
    }

    [Fact]
    public async Task AFileFromBeforeStepsHadKeysKeepsItsStepsAndGetsTheKeys()
    {
        var session = Guid.NewGuid();
        var t0 = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
        await using (var old = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={_file};Pooling=False"))
        {
            await old.OpenAsync();
            await using var create = old.CreateCommand();
            create.CommandText = $"""
                CREATE TABLE session_steps (id INTEGER PRIMARY KEY AUTOINCREMENT, session_id TEXT NOT NULL, at TEXT NOT NULL,
                    kind TEXT NOT NULL, agent_id TEXT, detail TEXT);
                INSERT INTO session_steps (session_id, at, kind, agent_id, detail) VALUES ('{session:D}', '{t0.AddSeconds(1).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}', 'offered', 'bob', NULL);
                INSERT INTO session_steps (session_id, at, kind, agent_id, detail) VALUES ('{session:D}', '{t0.AddSeconds(1).UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffffffZ}', 'offered', 'bob', NULL);
                """;
            await create.ExecuteNonQueryAsync();
        }
        var store = Open();
        await store.InitializeAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);
        var requested = new SessionRequested(session, t0, "demo", "demo/sales", new CustomerInfo("Dana", null, null, null, null, false), "https://shop.example/", null);
        await store.WriteAsync([requested], CancellationToken.None);
        await store.WriteAsync([requested], CancellationToken.None);

        var record = await store.GetAsync(session, CancellationToken.None);

        Assert.NotNull(record);
        Assert.Equal([StepKinds.Requested, StepKinds.Offered, StepKinds.Offered], record.Steps.Select(s => s.Kind));
    }

    [Fact]
    public async Task OnceTheRecorderHasStoppedADurableStepFailsAtOnceAsAStoppingSiloDoes()
    {
        var store = Open();
        var recorder = new SessionRecorder(store, Microsoft.Extensions.Logging.Abstractions.NullLogger<SessionRecorder>.Instance);
        await recorder.StartAsync(CancellationToken.None);
        var session = Guid.NewGuid();
        var t0 = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
        await recorder.RecordDurablyAsync(new SessionRequested(session, t0, "demo", "demo/sales", new CustomerInfo("Dana", null, null, null, null, false), "https://shop.example/", null));
        await recorder.StopAsync(CancellationToken.None);

        // A grain ending a session while its silo stops must hear that the end was not written (and not wait for ever), as
        // a failure the gateway and the clients try again (the hub answers `unavailable`).
        await Assert.ThrowsAsync<SiloUnavailableException>(() =>
            recorder.RecordDurablyAsync(new SessionClosed(session, t0.AddSeconds(9), SessionOutcome.Ended, null)).WaitAsync(TimeSpan.FromSeconds(30)));
        var record = await store.GetAsync(session, CancellationToken.None);
        Assert.Equal([StepKinds.Requested], record!.Steps.Select(s => s.Kind));
    }
}
