using System.Text.Json;
using Microsoft.Extensions.Options;
using Npgsql;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;
using SupportGrid.Silo.Records;

namespace SupportGrid.Cluster.Tests;

/// <summary>The PostgreSQL record store answers exactly as the SQLite one does, for the same writes.</summary>
public sealed class PostgresRecordStoreTests : IAsyncLifetime
{
    private readonly string _sqliteFile = Path.Combine(Path.GetTempPath(), $"sg-parity-{Guid.NewGuid():N}.db");
    private readonly string _database = "sg_parity_" + Guid.NewGuid().ToString("N")[..12];
    private bool _created;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        File.Delete(_sqliteFile);
        if (_created)
            await AdminAsync($"DROP DATABASE IF EXISTS {_database} WITH (FORCE)");
    }

    [SkippableFact]
    public async Task AnswersEveryQueryAsTheSqliteStoreDoes()
    {
        TestStores.Require();
        await AdminAsync($"CREATE DATABASE {_database}");
        _created = true;
        var connection = new NpgsqlConnectionStringBuilder(TestStores.Postgres) { Database = _database }.ConnectionString;
        ISessionRecordStore sqlite = new SqliteSessionRecordStore(Options.Create(new RecordsOptions { SqliteConnectionString = $"Data Source={_sqliteFile};Pooling=False" }));
        await using var postgres = new PostgresSessionRecordStore(Options.Create(new RecordsOptions { Provider = RecordsProviders.Postgres, PostgresConnectionString = connection }));

        // Microsecond times: PostgreSQL keeps microseconds, SQLite 100 ns ticks.
        var t0 = new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.FromHours(1)).AddTicks(1234560);
        var (a, b, c) = (Guid.NewGuid(), Guid.NewGuid(), Guid.NewGuid());
        var (channel, transfer) = (Guid.NewGuid(), Guid.NewGuid());
        var dana = new CustomerInfo("Dana, \"the\" shopper", "555-0100", null, "203.0.113.7", "cust-1", true);
        var walt = new CustomerInfo("Walt", null, "walt@example.com", null, null, false);
        RecordCommand[] batch =
        [
            new SessionRequested(a, t0, "demo", "demo/sales", dana, "https://shop.example/", "Shop"),
            new SessionRequested(a, t0, "demo", "demo/sales", dana, "https://shop.example/", "Shop"),
            new SessionStepped(a, t0.AddSeconds(1), StepKinds.Offered, "bob", null),
            new SessionStepped(a, t0.AddSeconds(21), StepKinds.OfferTimedOut, "bob", "20 s"),
            new SessionAccepted(a, t0.AddSeconds(25), "alice", channel),
            SessionStepped.Transferred(a, t0.AddSeconds(35), "alice", "demo/sales", "carol", null, transfer),
            new SessionAccepted(a, t0.AddSeconds(26), "alice", channel),
            SessionStepped.Transferred(a, t0.AddSeconds(36), "alice", "demo/sales", "carol", null, transfer), // a retry's
            new SessionAccepted(a, t0.AddSeconds(40), "carol", channel),
            new TranscriptSaved(a, t0.AddSeconds(60), channel,
            [
                new ChannelEvent(1, EventTypes.Joined, new Participant(Roles.Agent, "Alice"), "Alice joined the chat.", null, t0.AddSeconds(25)),
                new ChannelEvent(2, EventTypes.Message, new Participant(Roles.Customer, "Dana"), "Ünïcode ✓ and 'quotes'", null, t0.AddSeconds(30)),
            ]),
            new TranscriptSaved(a, t0.AddSeconds(61), channel,
                [new ChannelEvent(2, EventTypes.Message, new Participant(Roles.Customer, "Dana"), "saved again", null, t0.AddSeconds(30))]),
            new SessionClosed(a, t0.AddSeconds(60), SessionOutcome.Ended, "agent"),
            new SessionClosed(a, t0.AddSeconds(90), SessionOutcome.Abandoned, null),
            new SessionRequested(b, t0.AddMinutes(5), "demo", "demo/support", walt, "https://shop.example/help", null),
            new SessionClosed(b, t0.AddMinutes(6), SessionOutcome.LeftQueue, null),
            new SessionRequested(c, t0.AddMinutes(7), "demo", "demo/sales", walt, "https://shop.example/", null),
            new SessionClosed(c, t0.AddMinutes(7), SessionOutcome.OfflineMessage, "please call"),
        ];
        foreach (var store in new[] { sqlite, postgres })
        {
            await store.InitializeAsync(CancellationToken.None);
            await store.InitializeAsync(CancellationToken.None);
            await store.WriteAsync(batch[..6], CancellationToken.None);
            await store.WriteAsync(batch[6..], CancellationToken.None);
        }

        SessionQuery[] queries =
        [
            new(null, null, null, null, 10),
            new(null, null, null, null, 1),
            new(t0, t0.AddMinutes(1), "demo/sales", "alice", 10),
            new(null, null, null, "carol", 10),
            new(null, null, null, "bob", 10),
            new(t0.AddSeconds(1), null, null, null, 10),
            new(null, t0.AddMinutes(7), "demo/support", null, 10),
        ];
        foreach (var query in queries)
            Assert.Equal(Json(await sqlite.QueryAsync(query, CancellationToken.None)), Json(await postgres.QueryAsync(query, CancellationToken.None)));
        foreach (var id in new[] { a, b, c, Guid.NewGuid() })
            Assert.Equal(Json(await sqlite.GetAsync(id, CancellationToken.None)), Json(await postgres.GetAsync(id, CancellationToken.None)));

        // And the answers are the ones the sessions API relies on.
        var record = await postgres.GetAsync(a, CancellationToken.None);
        Assert.NotNull(record);
        Assert.Equal(["alice", "carol"], record.Summary.Agents);
        Assert.Equal((SessionOutcome.Ended, t0.AddSeconds(25), t0.AddSeconds(60)), (record.Summary.Outcome, record.Summary.AcceptedAt, record.Summary.EndedAt));
        Assert.Equal(["Alice joined the chat.", "saved again"], record.Transcript.Select(e => e.Text));
        // A retried start, transfer and end leave one step each (the first); an accept may repeat.
        Assert.Equal(
            [StepKinds.Requested, StepKinds.Offered, StepKinds.OfferTimedOut, StepKinds.Accepted, StepKinds.Accepted, StepKinds.Transferred,
                StepKinds.Accepted, StepKinds.Ended],
            record.Steps.Select(s => s.Kind));
        Assert.Equal(t0.AddSeconds(35), record.Steps.Single(s => s.Kind == StepKinds.Transferred).At);
        Assert.Equal(3, (await postgres.QueryAsync(queries[0], CancellationToken.None)).Count);
    }

    [SkippableFact]
    public async Task ASiloWithoutSchemaRightsRefusesToStartOnAnEmptyDatabaseUntilMigrated()
    {
        TestStores.Require();
        await AdminAsync($"CREATE DATABASE {_database}");
        _created = true;
        var options = new RecordsOptions
        {
            Provider = RecordsProviders.Postgres,
            PostgresConnectionString = new NpgsqlConnectionStringBuilder(TestStores.Postgres) { Database = _database }.ConnectionString,
            CreateSchemaAtStart = false,
        };
        await using var store = new PostgresSessionRecordStore(Options.Create(options));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(CancellationToken.None));
        Assert.Contains("migrate", refused.Message);

        await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => store.MigrateAsync(CancellationToken.None)));
        await store.InitializeAsync(CancellationToken.None);
        Assert.Empty(await store.QueryAsync(new SessionQuery(null, null, null, null, 10), CancellationToken.None));
    }

    [SkippableFact]
    public async Task TheMigrationCompletesASchemaFromBeforeStepsHadKeys()
    {
        TestStores.Require();
        await AdminAsync($"CREATE DATABASE {_database}");
        _created = true;
        var connection = new NpgsqlConnectionStringBuilder(TestStores.Postgres) { Database = _database }.ConnectionString;
        var session = Guid.NewGuid();
        var t0 = new DateTimeOffset(2026, 11, 27, 9, 0, 0, TimeSpan.Zero);
        await using (var old = new NpgsqlConnection(connection))
        {
            await old.OpenAsync();
            // The schema as it was: every line about step keys left out.
            var before = string.Join('\n', PostgresSessionRecordStore.Schema.Split('\n').Where(line => !line.Contains("step_key")));
            await using var create = new NpgsqlCommand(before, old);
            await create.ExecuteNonQueryAsync();
            await using var step = new NpgsqlCommand("INSERT INTO session_steps (session_id, at, kind) VALUES ($1, $2, 'offered')", old);
            step.Parameters.Add(new NpgsqlParameter { Value = session });
            step.Parameters.Add(new NpgsqlParameter { Value = t0.AddSeconds(1) });
            await step.ExecuteNonQueryAsync();
        }
        var options = new RecordsOptions { Provider = RecordsProviders.Postgres, PostgresConnectionString = connection, CreateSchemaAtStart = false };
        await using var store = new PostgresSessionRecordStore(Options.Create(options));

        var refused = await Assert.ThrowsAsync<InvalidOperationException>(() => store.InitializeAsync(CancellationToken.None));
        Assert.Contains("older than this version", refused.Message);

        await store.MigrateAsync(CancellationToken.None);
        await store.InitializeAsync(CancellationToken.None);
        var requested = new SessionRequested(session, t0, "demo", "demo/sales", new CustomerInfo("Dana", null, null, null, null, false), "https://shop.example/", null);
        await store.WriteAsync([requested], CancellationToken.None);
        await store.WriteAsync([requested], CancellationToken.None);
        var record = await store.GetAsync(session, CancellationToken.None);
        Assert.NotNull(record);
        Assert.Equal([StepKinds.Requested, StepKinds.Offered], record.Steps.Select(s => s.Kind));
    }

    private static string Json<T>(T value) => JsonSerializer.Serialize(value);

    private static async Task AdminAsync(string sql)
    {
        await using var connection = new NpgsqlConnection(TestStores.Postgres);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
