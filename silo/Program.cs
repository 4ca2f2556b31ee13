using SupportGrid.Silo.Health;
using SupportGrid.Silo.Records;
using SupportGrid.Silo.Telemetry;

namespace SupportGrid.Silo;

/// <summary>
/// A silo on its own (cluster mode), with health endpoints. In standalone mode the gateway hosts the same silo in its own
/// process. <c>SupportGrid.Silo migrate</c> creates the usage-record schema and exits (the Kubernetes migration Job).
/// </summary>
internal static class SiloProgram
{
    public static async Task<int> Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        if (args is ["migrate", ..])
            return await MigrateAsync(builder);

        var silo = builder.Configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        builder.Host.ConfigureHostOptions(host =>
        {
            // The web host answers the probes while the silo is still joining (startup reports 503 until then).
            host.ServicesStartConcurrently = true;
            host.ShutdownTimeout = silo.ShutdownTimeout;
        });
        builder.UseOrleans(orleans => orleans.UseSupportGridClustering(builder.Configuration).AddSupportGrid(builder.Configuration));
        builder.Services.AddSupportGridSiloHealth();
        builder.Services.AddSupportGridTelemetry(builder.Configuration, "supportgrid-silo");
        var app = builder.Build();
        app.MapSupportGridHealth();
        app.MapSupportGridMetrics();
        await app.RunAsync();
        return 0;
    }

    private static async Task<int> MigrateAsync(WebApplicationBuilder builder)
    {
        var records = builder.Configuration.GetSection(RecordsOptions.Section).Get<RecordsOptions>() ?? new RecordsOptions();
        if (records.Provider != RecordsProviders.Postgres)
        {
            Console.Error.WriteLine($"Nothing to migrate: SupportGrid:Records:Provider is '{records.Provider}' (SQLite creates its schema at start).");
            return 0;
        }
        var store = new PostgresSessionRecordStore(Microsoft.Extensions.Options.Options.Create(records));
        await using (store)
            await store.MigrateAsync(CancellationToken.None);
        Console.WriteLine("The usage-record schema is up to date.");
        return 0;
    }
}
