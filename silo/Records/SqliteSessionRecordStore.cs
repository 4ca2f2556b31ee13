using System.Globalization;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;

namespace SupportGrid.Silo.Records;

/// <summary>Usage records in a SQLite file (WAL mode): the standalone default, which survives a restart.</summary>
public sealed class SqliteSessionRecordStore(IOptions<RecordsOptions> options) : ISessionRecordStore
{
    private readonly string _connectionString = options.Value.SqliteConnectionString;

    private const string Schema = """
        PRAGMA journal_mode = WAL;
        CREATE TABLE IF NOT EXISTS sessions (
            session_id TEXT PRIMARY KEY,
            site TEXT NOT NULL,
            queue TEXT NOT NULL,
            customer_name TEXT NOT NULL,
            phone TEXT, email TEXT, ip TEXT, customer_id TEXT,
            customer_id_verified INTEGER NOT NULL,
            page_url TEXT NOT NULL,
            page_title TEXT,
            requested_at TEXT NOT NULL,
            accepted_at TEXT,
            ended_at TEXT,
            outcome TEXT,
            agents TEXT NOT NULL DEFAULT ',',
            channel_id TEXT);
        CREATE INDEX IF NOT EXISTS ix_sessions_requested_at ON sessions (requested_at);
        CREATE INDEX IF NOT EXISTS ix_sessions_queue ON sessions (queue, requested_at);
        CREATE TABLE IF NOT EXISTS session_steps (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            session_id TEXT NOT NULL,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            agent_id TEXT,
            detail TEXT,
            step_key TEXT);
        CREATE INDEX IF NOT EXISTS ix_session_steps_session ON session_steps (session_id, id);
        CREATE TABLE IF NOT EXISTS transcripts (
            session_id TEXT NOT NULL,
            channel_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            type TEXT NOT NULL,
            from_role TEXT NOT NULL,
            from_name TEXT NOT NULL,
            text TEXT, url TEXT,
            at TEXT NOT NULL,
            PRIMARY KEY (session_id, channel_id, seq));
        """;

    public async Task InitializeAsync(CancellationToken cancellationToken)
    {
        var builder = new SqliteConnectionStringBuilder(_connectionString);
        var folder = Path.GetDirectoryName(Path.GetFullPath(builder.DataSource));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        command.CommandText = Schema;
        await command.ExecuteNonQueryAsync(cancellationToken);
        // A file made before steps had keys gets the column (SQLite has no ADD COLUMN IF NOT EXISTS); its old steps keep none.
        // In one write transaction (BEGIN IMMEDIATE), so that two processes opening an old file at once add it once.
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        command.Transaction = transaction;
        command.CommandText = "SELECT COUNT(*) FROM pragma_table_info('session_steps') WHERE name = 'step_key'";
        if (Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture) == 0)
        {
            command.CommandText = "ALTER TABLE session_steps ADD COLUMN step_key TEXT";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        command.CommandText = "CREATE UNIQUE INDEX IF NOT EXISTS ux_session_steps_key ON session_steps (session_id, step_key) WHERE step_key IS NOT NULL";
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task WriteAsync(IReadOnlyList<RecordCommand> batch, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(cancellationToken);
        foreach (var item in batch)
        {
            switch (item)
            {
                case SessionRequested r:
                    await ExecuteAsync(connection, transaction, """
                        INSERT OR IGNORE INTO sessions (session_id, site, queue, customer_name, phone, email, ip, customer_id,
                            customer_id_verified, page_url, page_title, requested_at)
                        VALUES ($id, $site, $queue, $name, $phone, $email, $ip, $cid, $verified, $url, $title, $at)
                        """, cancellationToken,
                        ("$id", Id(r.SessionId)), ("$site", r.Site), ("$queue", r.Queue), ("$name", r.Customer.Name),
                        ("$phone", r.Customer.Phone), ("$email", r.Customer.Email), ("$ip", r.Customer.Ip), ("$cid", r.Customer.CustomerId),
                        ("$verified", r.Customer.CustomerIdVerified ? 1 : 0), ("$url", r.PageUrl), ("$title", r.PageTitle), ("$at", Time(r.At)));
                    await StepAsync(connection, transaction, r.SessionId, r.At, StepKinds.Requested, null, null, StepKeys.Requested, cancellationToken);
                    break;
                case SessionStepped s:
                    await StepAsync(connection, transaction, s.SessionId, s.At, s.Kind, s.AgentId, s.Detail, s.Key, cancellationToken);
                    break;
                case SessionAccepted a:
                    await ExecuteAsync(connection, transaction, """
                        UPDATE sessions SET accepted_at = COALESCE(accepted_at, $at), channel_id = $channel,
                            agents = CASE WHEN instr(agents, ',' || $agent || ',') > 0 THEN agents ELSE agents || $agent || ',' END
                        WHERE session_id = $id
                        """, cancellationToken, ("$id", Id(a.SessionId)), ("$at", Time(a.At)), ("$channel", Id(a.ChannelId)), ("$agent", a.AgentId));
                    await StepAsync(connection, transaction, a.SessionId, a.At, StepKinds.Accepted, a.AgentId, null, null, cancellationToken);
                    break;
                case SessionClosed c:
                    await ExecuteAsync(connection, transaction, """
                        UPDATE sessions SET ended_at = COALESCE(ended_at, $at), outcome = COALESCE(outcome, $outcome) WHERE session_id = $id
                        """, cancellationToken, ("$id", Id(c.SessionId)), ("$at", Time(c.At)), ("$outcome", c.Outcome));
                    string? kind = c.Outcome switch
                    {
                        SessionOutcome.Abandoned => StepKinds.Abandoned,
                        SessionOutcome.LeftQueue => StepKinds.LeftQueue,
                        SessionOutcome.OfflineMessage => null,
                        SessionOutcome.RefusedOffline => StepKinds.RefusedOffline,
                        _ => StepKinds.Ended,
                    };
                    if (kind is not null)
                        await StepAsync(connection, transaction, c.SessionId, c.At, kind, null, c.Detail, StepKeys.Closed, cancellationToken);
                    break;
                case TranscriptSaved t:
                    foreach (var e in t.Events)
                    {
                        await ExecuteAsync(connection, transaction, """
                            INSERT OR REPLACE INTO transcripts (session_id, channel_id, seq, type, from_role, from_name, text, url, at)
                            VALUES ($id, $channel, $seq, $type, $role, $name, $text, $url, $at)
                            """, cancellationToken, ("$id", Id(t.SessionId)), ("$channel", Id(t.ChannelId)), ("$seq", e.Seq), ("$type", e.Type),
                            ("$role", e.From.Role), ("$name", e.From.Name), ("$text", e.Text), ("$url", e.Url), ("$at", Time(e.At)));
                    }
                    break;
                default:
                    throw new ArgumentException($"Unknown record command {item.GetType().Name}.", nameof(batch));
            }
        }
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<IReadOnlyList<SessionSummary>> QueryAsync(SessionQuery query, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        await using var command = connection.CreateCommand();
        var where = new List<string>();
        if (query.From is { } from) { where.Add("requested_at >= $from"); command.Parameters.AddWithValue("$from", Time(from)); }
        if (query.To is { } to) { where.Add("requested_at < $to"); command.Parameters.AddWithValue("$to", Time(to)); }
        if (!string.IsNullOrEmpty(query.Queue)) { where.Add("queue = $queue"); command.Parameters.AddWithValue("$queue", query.Queue); }
        if (!string.IsNullOrEmpty(query.Agent)) { where.Add("instr(agents, ',' || $agent || ',') > 0"); command.Parameters.AddWithValue("$agent", query.Agent); }
        command.CommandText = $"SELECT {SummaryColumns} FROM sessions {(where.Count > 0 ? "WHERE " + string.Join(" AND ", where) : "")} ORDER BY requested_at DESC LIMIT $limit";
        command.Parameters.AddWithValue("$limit", query.Limit);
        var result = new List<SessionSummary>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
            result.Add(ReadSummary(reader));
        return result;
    }

    public async Task<SessionRecord?> GetAsync(Guid sessionId, CancellationToken cancellationToken)
    {
        await using var connection = await OpenAsync(cancellationToken);
        SessionSummary summary;
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = $"SELECT {SummaryColumns} FROM sessions WHERE session_id = $id";
            command.Parameters.AddWithValue("$id", Id(sessionId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            if (!await reader.ReadAsync(cancellationToken))
                return null;
            summary = ReadSummary(reader);
        }
        var steps = new List<SessionStep>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT at, kind, agent_id, detail FROM session_steps WHERE session_id = $id ORDER BY at, id";
            command.Parameters.AddWithValue("$id", Id(sessionId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
                steps.Add(new SessionStep(ParseTime(reader.GetString(0)), reader.GetString(1), NullableString(reader, 2), NullableString(reader, 3)));
        }
        var transcript = new List<ChannelEvent>();
        await using (var command = connection.CreateCommand())
        {
            command.CommandText = "SELECT seq, type, from_role, from_name, text, url, at FROM transcripts WHERE session_id = $id ORDER BY channel_id, seq";
            command.Parameters.AddWithValue("$id", Id(sessionId));
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (await reader.ReadAsync(cancellationToken))
            {
                transcript.Add(new ChannelEvent(reader.GetInt64(0), reader.GetString(1), new Participant(reader.GetString(2), reader.GetString(3)),
                    NullableString(reader, 4), NullableString(reader, 5), ParseTime(reader.GetString(6))));
            }
        }
        return new SessionRecord(summary, steps, transcript);
    }

    private const string SummaryColumns = "session_id, site, queue, customer_name, phone, email, ip, customer_id, customer_id_verified, page_url, page_title, requested_at, accepted_at, ended_at, outcome, agents, channel_id";

    private static SessionSummary ReadSummary(SqliteDataReader r) => new(
        Guid.Parse(r.GetString(0)), r.GetString(1), r.GetString(2),
        new CustomerInfo(r.GetString(3), NullableString(r, 4), NullableString(r, 5), NullableString(r, 6), NullableString(r, 7), r.GetInt64(8) != 0),
        r.GetString(9), NullableString(r, 10), ParseTime(r.GetString(11)),
        NullableString(r, 12) is { } accepted ? ParseTime(accepted) : null,
        NullableString(r, 13) is { } ended ? ParseTime(ended) : null,
        NullableString(r, 14),
        r.GetString(15).Split(',', StringSplitOptions.RemoveEmptyEntries),
        NullableString(r, 16) is { } channel ? Guid.Parse(channel) : null);

    private async Task<SqliteConnection> OpenAsync(CancellationToken cancellationToken)
    {
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync(cancellationToken);
        return connection;
    }

    /// <summary>Adds a step; a keyed step the session already has is left as it is (a retry's).</summary>
    private static Task StepAsync(SqliteConnection connection, SqliteTransaction transaction, Guid sessionId, DateTimeOffset at, string kind,
        string? agentId, string? detail, string? key, CancellationToken cancellationToken) =>
        ExecuteAsync(connection, transaction, """
            INSERT INTO session_steps (session_id, at, kind, agent_id, detail, step_key) VALUES ($id, $at, $kind, $agent, $detail, $key)
            ON CONFLICT (session_id, step_key) WHERE step_key IS NOT NULL DO NOTHING
            """,
            cancellationToken, ("$id", Id(sessionId)), ("$at", Time(at)), ("$kind", kind), ("$agent", agentId), ("$detail", detail), ("$key", key));

    private static async Task ExecuteAsync(SqliteConnection connection, SqliteTransaction transaction, string sql, CancellationToken cancellationToken,
        params (string Name, object? Value)[] parameters)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        foreach (var (name, value) in parameters)
            command.Parameters.AddWithValue(name, value ?? DBNull.Value);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    private static string? NullableString(SqliteDataReader reader, int ordinal) => reader.IsDBNull(ordinal) ? null : reader.GetString(ordinal);

    private static string Id(Guid id) => id.ToString("D");

    /// <summary>UTC, fixed width, so text order is time order.</summary>
    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss.fffffff'Z'", CultureInfo.InvariantCulture);

    private static DateTimeOffset ParseTime(string text) =>
        DateTimeOffset.Parse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
