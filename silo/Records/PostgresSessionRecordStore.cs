using Microsoft.Extensions.Options;
using Npgsql;
using NpgsqlTypes;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;

namespace SupportGrid.Silo.Records;

/// <summary>
/// Usage records in PostgreSQL (cluster mode): the same tables, writes and queries as <see cref="SqliteSessionRecordStore"/>,
/// shared by every silo. A batch goes to the server in one round trip (an <see cref="NpgsqlBatch"/> in one transaction).
/// Times are stored as <c>timestamptz</c> (microseconds; SQLite keeps 100 ns ticks).
/// </summary>
public sealed class PostgresSessionRecordStore(IOptions<RecordsOptions> options) : ISessionRecordStore, IAsyncDisposable
{
    private readonly NpgsqlDataSource _data = NpgsqlDataSource.Create(
        options.Value.PostgresConnectionString ?? throw new InvalidOperationException("SupportGrid:Records:PostgresConnectionString is not set."));

    private readonly bool _createSchema = options.Value.CreateSchemaAtStart;

    /// <summary>Serializes schema changes of silos starting together (CREATE ... IF NOT EXISTS alone races in PostgreSQL).</summary>
    private const long SchemaLock = 0x5347_5245_4353; // "SGRECS"

    public const string Schema = """
        CREATE TABLE IF NOT EXISTS sessions (
            session_id uuid PRIMARY KEY,
            site text NOT NULL,
            queue text NOT NULL,
            customer_name text NOT NULL,
            phone text, email text, ip text, customer_id text,
            customer_id_verified boolean NOT NULL,
            page_url text NOT NULL,
            page_title text,
            requested_at timestamptz NOT NULL,
            accepted_at timestamptz,
            ended_at timestamptz,
            outcome text,
            agents text[] NOT NULL DEFAULT '{}',
            channel_id uuid);
        CREATE INDEX IF NOT EXISTS ix_sessions_requested_at ON sessions (requested_at);
        CREATE INDEX IF NOT EXISTS ix_sessions_queue ON sessions (queue, requested_at);
        CREATE INDEX IF NOT EXISTS ix_sessions_agents ON sessions USING gin (agents);
        CREATE TABLE IF NOT EXISTS session_steps (
            id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            session_id uuid NOT NULL,
            at timestamptz NOT NULL,
            kind text NOT NULL,
            agent_id text,
            detail text);
        CREATE INDEX IF NOT EXISTS ix_session_steps_session ON session_steps (session_id, id);
        DO $$ BEGIN IF NOT EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = 'session_steps'::regclass AND attname = 'step_key' AND NOT attisdropped) THEN ALTER TABLE session_steps ADD COLUMN step_key text; END IF; END $$;
        CREATE UNIQUE INDEX IF NOT EXISTS ux_session_steps_key ON session_steps (session_id, step_key) WHERE step_key IS NOT NULL;
        CREATE TABLE IF NOT EXISTS transcripts (
            session_id uuid NOT NULL,
            channel_id uuid NOT NULL,
            seq bigint NOT NULL,
            type text NOT NULL,
            from_role text NOT NULL,
            from_name text NOT NULL,
            text text, url text,
            at timestamptz NOT NULL,
            PRIMARY KEY (session_id, channel_id, seq));
        """;

    /// <summary>Creates the schema if allowed (<see cref="RecordsOptions.CreateSchemaAtStart"/>), else checks that it exists.</summary>
    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        if (_createSchema)
        {
            await MigrateAsync(cancellationToken);
            return;
        }
        await using var command = _data.CreateCommand("SELECT to_regclass('sessions') IS NOT NULL AND to_regclass('transcripts') IS NOT NULL AND to_regclass('ux_session_steps_key') IS NOT NULL");
        if (await command.ExecuteScalarAsync(cancellationToken) is not true)
            throw new InvalidOperationException("The usage-record tables are missing or older than this version: run 'SupportGrid.Silo migrate' (the Kubernetes migration Job) or set SupportGrid:Records:CreateSchemaAtStart=true.");
    }

    /// <summary>Creates or completes the schema (idempotent). The <c>migrate</c> command of the silo runs this.</summary>
    public async Task MigrateAsync(CancellationToken cancellationToken)
    {
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using (var take = new NpgsqlCommand($"SELECT pg_advisory_xact_lock({SchemaLock})", connection, transaction))
            await take.ExecuteNonQueryAsync(cancellationToken);
        await using (var create = new NpgsqlCommand(Schema, connection, transaction))
            await create.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task WriteAsync(IReadOnlyList<RecordCommand> batch, CancellationToken cancellationToken)
    {
        if (batch.Count == 0)
            return;
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
        await using var sql = new NpgsqlBatch(connection, transaction);
        foreach (var item in batch)
        {
            switch (item)
            {
                case SessionRequested r:
                    Add(sql, """
                        INSERT INTO sessions (session_id, site, queue, customer_name, phone, email, ip, customer_id,
                            customer_id_verified, page_url, page_title, requested_at)
                        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
                        ON CONFLICT (session_id) DO NOTHING
                        """, r.SessionId, r.Site, r.Queue, r.Customer.Name, r.Customer.Phone, r.Customer.Email, r.Customer.Ip,
                        r.Customer.CustomerId, r.Customer.CustomerIdVerified, r.PageUrl, r.PageTitle, Utc(r.At));
                    Step(sql, r.SessionId, r.At, StepKinds.Requested, null, null, StepKeys.Requested);
                    break;
                case SessionStepped s:
                    Step(sql, s.SessionId, s.At, s.Kind, s.AgentId, s.Detail, s.Key);
                    break;
                case SessionAccepted a:
                    Add(sql, """
                        UPDATE sessions SET accepted_at = COALESCE(accepted_at, $2), channel_id = $3,
                            agents = CASE WHEN $4 = ANY (agents) THEN agents ELSE array_append(agents, $4) END
                        WHERE session_id = $1
                        """, a.SessionId, Utc(a.At), a.ChannelId, a.AgentId);
                    Step(sql, a.SessionId, a.At, StepKinds.Accepted, a.AgentId, null, null);
                    break;
                case SessionClosed c:
                    Add(sql, "UPDATE sessions SET ended_at = COALESCE(ended_at, $2), outcome = COALESCE(outcome, $3) WHERE session_id = $1",
                        c.SessionId, Utc(c.At), c.Outcome);
                    string? kind = c.Outcome switch
                    {
                        SessionOutcome.Abandoned => StepKinds.Abandoned,
                        SessionOutcome.LeftQueue => StepKinds.LeftQueue,
                        SessionOutcome.OfflineMessage => null,
                        SessionOutcome.RefusedOffline => StepKinds.RefusedOffline,
                        _ => StepKinds.Ended,
                    };
                    if (kind is not null)
                        Step(sql, c.SessionId, c.At, kind, null, c.Detail, StepKeys.Closed);
                    break;
                case TranscriptSaved t:
                    foreach (var e in t.Events)
                    {
                        Add(sql, """
                            INSERT INTO transcripts (session_id, channel_id, seq, type, from_role, from_name, text, url, at)
                            VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
                            ON CONFLICT (session_id, channel_id, seq) DO UPDATE SET type = excluded.type, from_role = excluded.from_role,
                                from_name = excluded.from_name, text = excluded.text, url = excluded.url, at = excluded.at
                            """, t.SessionId, t.ChannelId, e.Seq, e.Type, e.From.Role, e.From.Name, e.Text, e.Url, Utc(e.At));
                    }
                    break;
                default:
                    throw new ArgumentException($"Unknown record command {item.GetType().Name}.", nameof(batch));
            }
        }
        if (sql.BatchCommands.Count > 0)
            await sql.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SessionSummary>> QueryAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        await using var command = _data.CreateCommand();
        var where = new List<string>();
        if (query.From is { } from) { where.Add("requested_at >= @from"); command.Parameters.AddWithValue("from", Utc(from)); }
        if (query.To is { } to) { where.Add("requested_at < @to"); command.Parameters.AddWithValue("to", Utc(to)); }
        if (!string.IsNullOrEmpty(query.Queue)) { where.Add("queue = @queue"); command.Parameters.AddWithValue("queue", query.Queue); }
        if (!string.IsNullOrEmpty(query.Agent)) { where.Add("agents @> ARRAY[@agent]"); command.Parameters.AddWithValue("agent", NpgsqlDbType.Text, query.Agent); }
        command.CommandText = $"SELECT {SummaryColumns} FROM sessions {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY requested_at DESC LIMIT @limit";
        command.Parameters.AddWithValue("limit", query.Limit);
        var result = new List<SessionSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(ReadSummary(reader));
        return result;
    }

    public async Task<SessionRecord?> GetAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await _data.OpenConnectionAsync(cancellationToken);
        SessionSummary summary;
        await using (var command = new NpgsqlCommand($"SELECT {SummaryColumns} FROM sessions WHERE session_id = $1", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return null;
            summary = ReadSummary(reader);
        }
        var steps = new List<SessionStep>();
        await using (var command = new NpgsqlCommand("SELECT at, kind, agent_id, detail FROM session_steps WHERE session_id = $1 ORDER BY at, id", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                steps.Add(new SessionStep(Time(reader, 0), reader.GetString(1), NullableString(reader, 2), NullableString(reader, 3)));
        }
        var transcript = new List<ChannelEvent>();
        await using (var command = new NpgsqlCommand("SELECT seq, type, from_role, from_name, text, url, at FROM transcripts WHERE session_id = $1 ORDER BY channel_id, seq", connection))
        {
            command.Parameters.Add(new NpgsqlParameter { Value = sessionId });
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                transcript.Add(new ChannelEvent(reader.GetInt64(0), reader.GetString(1), new Participant(reader.GetString(2), reader.GetString(3)),
                    NullableString(reader, 4), NullableString(reader, 5), Time(reader, 6)));
            }
        }
        return new SessionRecord(summary, steps, transcript);
    }

    public ValueTask DisposeAsync() => _data.DisposeAsync();

    private const string SummaryColumns = "session_id, site, queue, customer_name, phone, email, ip, customer_id, customer_id_verified, page_url, page_title, requested_at, accepted_at, ended_at, outcome, agents, channel_id";

    private static SessionSummary ReadSummary(NpgsqlDataReader r) => new(
        r.GetGuid(0), r.GetString(1), r.GetString(2),
        new CustomerInfo(r.GetString(3), NullableString(r, 4), NullableString(r, 5), NullableString(r, 6), NullableString(r, 7), r.GetBoolean(8)),
        r.GetString(9), NullableString(r, 10), Time(r, 11),
        r.IsDBNull(12) ? null : Time(r, 12),
        r.IsDBNull(13) ? null : Time(r, 13),
        NullableString(r, 14),
        r.GetFieldValue<string[]>(15),
        r.IsDBNull(16) ? null : r.GetGuid(16));

    /// <summary>Adds a step; a keyed step the session already has is left as it is (a retry's).</summary>
    private static void Step(NpgsqlBatch sql, Guid sessionId, DateTimeOffset at, string kind, string? agentId, string? detail, string? key) =>
        Add(sql, """
            INSERT INTO session_steps (session_id, at, kind, agent_id, detail, step_key) VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (session_id, step_key) WHERE step_key IS NOT NULL DO NOTHING
            """, sessionId, Utc(at), kind, agentId, detail, key);

    private static void Add(NpgsqlBatch sql, string text, params object?[] values)
    {
        var command = new NpgsqlBatchCommand(text);
        foreach (var value in values)
            command.Parameters.Add(value is null ? new NpgsqlParameter { Value = DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text } : new NpgsqlParameter { Value = value });
        sql.BatchCommands.Add(command);
    }

    /// <summary>Npgsql writes only UTC offsets to <c>timestamptz</c>.</summary>
    private static DateTimeOffset Utc(DateTimeOffset at) => at.ToUniversalTime();

    private static DateTimeOffset Time(NpgsqlDataReader reader, int ordinal) => reader.GetFieldValue<DateTimeOffset>(ordinal);

    private static string? NullableString(NpgsqlDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);
}
