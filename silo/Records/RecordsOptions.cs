namespace SupportGrid.Silo.Records;

/// <summary>Where usage records are kept. Bound from <c>SupportGrid:Records</c>.</summary>
public sealed class RecordsOptions
{
    public const string Section = "SupportGrid:Records";

    /// <summary><c>sqlite</c> (default, standalone) or <c>postgres</c> (cluster mode: every silo writes to one database).</summary>
    public string Provider { get; set; } = RecordsProviders.Sqlite;

    /// <summary>SQLite connection string (standalone mode). The folder of the file is created if missing.</summary>
    public string SqliteConnectionString { get; set; } = "Data Source=data/supportgrid-records.db";

    /// <summary>Npgsql connection string (<c>Host=…;Port=5432;Database=…;Username=…;Password=…</c>).</summary>
    public string? PostgresConnectionString { get; set; }

    /// <summary>PostgreSQL: create the schema when a silo starts (idempotent, serialized by an advisory lock). Set false
    /// when the silos' database user may not change the schema; then run <c>SupportGrid.Silo migrate</c> first (the
    /// Kubernetes Job does) and a silo refuses to start on a database without the schema.</summary>
    public bool CreateSchemaAtStart { get; set; } = true;
}

/// <summary>Values of <see cref="RecordsOptions.Provider"/>.</summary>
public static class RecordsProviders
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}

/// <summary>Where grain state is kept. Bound from <c>SupportGrid:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "SupportGrid:Storage";

    /// <summary><c>sqlite</c> (default: durable, survives a restart), <c>memory</c> (lost on restart) or <c>redis</c>
    /// (the default in cluster mode, that is when <c>SupportGrid:Cluster:Redis</c> is set).</summary>
    public string? Provider { get; set; }

    public string SqliteConnectionString { get; set; } = "Data Source=data/supportgrid-grains.db";
}
