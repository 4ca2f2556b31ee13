using Microsoft.Data.Sqlite;
using Orleans.Serialization;
using Orleans.Storage;

namespace SupportGrid.Silo.Storage;

/// <summary>
/// Grain state in a SQLite file: the standalone mode's durable store, so stopping and starting the product keeps queues,
/// sessions, agents and channels. State is serialized with the Orleans serializer; each row carries a version, and a write
/// that does not match the version it read fails with <see cref="InconsistentStateException"/> (optimistic concurrency,
/// as every Orleans storage provider does).
/// </summary>
public sealed class SqliteGrainStorage : IGrainStorage
{
    private readonly string _connectionString;
    private readonly Serializer _serializer;
    private readonly Lazy<Task> _schema;

    public SqliteGrainStorage(string connectionString, Serializer serializer)
    {
        _connectionString = connectionString;
        _serializer = serializer;
        _schema = new Lazy<Task>(CreateSchemaAsync);
    }

    public async Task ReadStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT data, version FROM grain_state WHERE id = $id";
        command.Parameters.AddWithValue("$id", Key(stateName, grainId));
        await using var reader = await command.ExecuteReaderAsync();
        if (!await reader.ReadAsync())
        {
            grainState.ETag = null;
            grainState.RecordExists = false;
            return;
        }
        grainState.State = _serializer.Deserialize<T>((byte[])reader.GetValue(0));
        grainState.ETag = reader.GetInt64(1).ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task WriteStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        var data = _serializer.SerializeToArray(grainState.State);
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.Parameters.AddWithValue("$id", Key(stateName, grainId));
        command.Parameters.AddWithValue("$data", data);
        long next;
        if (grainState.ETag is null)
        {
            next = 1;
            command.CommandText = "INSERT INTO grain_state (id, data, version) VALUES ($id, $data, 1) ON CONFLICT (id) DO NOTHING";
        }
        else
        {
            var expected = long.Parse(grainState.ETag, System.Globalization.CultureInfo.InvariantCulture);
            next = expected + 1;
            command.CommandText = "UPDATE grain_state SET data = $data, version = $next WHERE id = $id AND version = $expected";
            command.Parameters.AddWithValue("$expected", expected);
            command.Parameters.AddWithValue("$next", next);
        }
        if (await command.ExecuteNonQueryAsync() != 1)
            throw new InconsistentStateException($"State '{stateName}' of {grainId} was changed by someone else (expected version {grainState.ETag ?? "none"}).");
        grainState.ETag = next.ToString(System.Globalization.CultureInfo.InvariantCulture);
        grainState.RecordExists = true;
    }

    public async Task ClearStateAsync<T>(string stateName, GrainId grainId, IGrainState<T> grainState)
    {
        await using var connection = await OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "DELETE FROM grain_state WHERE id = $id";
        command.Parameters.AddWithValue("$id", Key(stateName, grainId));
        await command.ExecuteNonQueryAsync();
        grainState.ETag = null;
        grainState.RecordExists = false;
    }

    private static string Key(string stateName, GrainId grainId) => $"{stateName}/{grainId}";

    private async Task<SqliteConnection> OpenAsync()
    {
        await _schema.Value;
        var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        return connection;
    }

    private async Task CreateSchemaAsync()
    {
        var folder = Path.GetDirectoryName(Path.GetFullPath(new SqliteConnectionStringBuilder(_connectionString).DataSource));
        if (!string.IsNullOrEmpty(folder))
            Directory.CreateDirectory(folder);
        await using var connection = new SqliteConnection(_connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = """
            PRAGMA journal_mode = WAL;
            CREATE TABLE IF NOT EXISTS grain_state (id TEXT PRIMARY KEY, data BLOB NOT NULL, version INTEGER NOT NULL);
            """;
        await command.ExecuteNonQueryAsync();
    }
}
