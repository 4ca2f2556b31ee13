using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains;
using SupportGrid.Grains.Records;
using SupportGrid.Silo.Records;

namespace SupportGrid.Silo;

/// <summary>Everything a SupportGrid silo needs, shared by the silo host, the gateway's standalone mode and the tests.</summary>
public static class SiloHostingExtensions
{
    /// <summary>Grain storage, the channel stream provider with a short polling period, and the flow options.</summary>
    public static ISiloBuilder AddSupportGrid(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Options(configuration);
        silo.AddMemoryGrainStorage(GrainStorage.Name);
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePullingAgent(agent =>
            agent.Configure(o => o.GetQueueMsgsTimerPeriod = options.StreamPollPeriod)));
        silo.Services.AddOptions<FlowOptions>().BindConfiguration(FlowOptions.Section);
        silo.Services.TryAddSingleton(TimeProvider.System);
        silo.Services.AddOptions<RecordsOptions>().BindConfiguration(RecordsOptions.Section);
        silo.Services.AddOptions<Grains.Routing.RoutingOptions>().BindConfiguration(Grains.Routing.RoutingOptions.Section)
            .Validate(routing =>
            {
                // Throws with the reason (unknown time zone, malformed hours, unknown policy), failing start-up.
                foreach (var hours in routing.Hours.Values)
                    hours.Validate();
                foreach (var queue in routing.Queues.Values.SelectMany(q => q.Values))
                    queue.CreatePolicy();
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
