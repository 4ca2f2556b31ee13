using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Orleans.Runtime.Hosting;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains;
using SupportGrid.Grains.Records;
using SupportGrid.Grains.Streams;
using Orleans.Configuration;
using SupportGrid.Silo.Records;

namespace SupportGrid.Silo;

/// <summary>Everything a SupportGrid silo needs, shared by the silo host, the gateway's standalone mode and the tests.</summary>
public static class SiloHostingExtensions
{
    /// <summary>Grain storage, the channel stream provider with a short polling period, and the flow options.</summary>
    public static ISiloBuilder AddSupportGrid(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Options(configuration);
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        switch (storage.Provider)
        {
            case "sqlite":
                // Registered once per silo; several silos in one process (tests) share the file, which outlives any one of them.
                silo.Services.AddGrainStorage(GrainStorage.Name, (sp, _) =>
                    new Storage.SqliteGrainStorage(storage.SqliteConnectionString, sp.GetRequiredService<Orleans.Serialization.Serializer>()));
                break;
            case "memory":
                silo.AddMemoryGrainStorage(GrainStorage.Name);
                break;
            default:
                throw new InvalidOperationException($"SupportGrid:Storage:Provider must be 'sqlite' or 'memory', not '{storage.Provider}'.");
        }
        silo.AddMemoryGrainStorage("PubSubStore");
        // Channel broadcasts: Orleans persistent streams over in-memory queues read by long poll (grains/Streams/ChannelQueue.cs).
        silo.AddPersistentStreams(StreamNames.Provider, ChannelQueueAdapterFactory.Create, streams =>
        {
            streams.ConfigurePullingAgent(agent => agent.Configure(o => o.GetQueueMsgsTimerPeriod = options.StreamPollPeriod));
            streams.Configure<HashRingStreamQueueMapperOptions>(mapper => mapper.Configure(o => o.TotalQueueCount = options.StreamQueues));
        });
        silo.Services.AddOptions<FlowOptions>().BindConfiguration(FlowOptions.Section);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddOptions<RecordsOptions>().BindConfiguration(RecordsOptions.Section);
        silo.Services.AddOptions<Grains.Routing.RoutingOptions>().BindConfiguration(Grains.Routing.RoutingOptions.Section)
            .Validate(routing =>
            {
                // Throws with the reason (unknown time zone, malformed hours, unknown policy), failing start-up.
                foreach (var hours in routing.Hours.Values)
                    hours.Validate();
                foreach (var (site, queues) in routing.Queues)
                    foreach (var (name, queue) in queues)
                        queue.Validate(site, name);
                return true;
            })
            .ValidateOnStart();
        silo.Services.TryAddSingleton<ISessionRecordStore, SqliteSessionRecordStore>();
        silo.Services.AddSingleton<SessionRecorder>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<SessionRecorder>());
        return silo;
    }

    /// <summary>Localhost clustering on the configured ports (standalone mode and local clusters).</summary>
    public static ISiloBuilder UseSupportGridClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Options(configuration);
        return silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
    }

    private static SiloOptions Options(IConfiguration configuration) =>
        configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
}
