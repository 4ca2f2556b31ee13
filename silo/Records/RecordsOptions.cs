namespace SupportGrid.Silo.Records;

/// <summary>Where usage records are kept. Bound from <c>SupportGrid:Records</c>.</summary>
public sealed class RecordsOptions
{
    public const string Section = "SupportGrid:Records";

    /// <summary>SQLite connection string (standalone mode). The folder of the file is created if missing.</summary>
    public string SqliteConnectionString { get; set; } = "Data Source=data/supportgrid-records.db";
}

/// <summary>Where grain state is kept. Bound from <c>SupportGrid:Storage</c>.</summary>
public sealed class StorageOptions
{
    public const string Section = "SupportGrid:Storage";

    /// <summary><c>sqlite</c> (default: durable, survives a restart) or <c>memory</c> (lost on restart).</summary>
    public string Provider { get; set; } = "sqlite";

    public string SqliteConnectionString { get; set; } = "Data Source=data/supportgrid-grains.db";
}
