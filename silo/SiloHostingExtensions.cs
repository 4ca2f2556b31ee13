using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains;

namespace SupportGrid.Silo;

/// <summary>Everything a SupportGrid silo needs, shared by the silo host and the gateway's standalone mode.</summary>
public static class SiloHostingExtensions
{
    /// <summary>
    /// Configures a silo: localhost clustering on the configured ports, grain storage, the channel stream provider
    /// with a short polling period, and the flow options.
    /// </summary>
    public static ISiloBuilder AddSupportGrid(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
        silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);
        silo.AddMemoryGrainStorage(GrainStorage.Name);
        silo.AddMemoryGrainStorage("PubSubStore");
        silo.AddMemoryStreams(StreamNames.Provider, streams => streams.ConfigurePullingAgent(agent =>
            agent.Configure(o => o.GetQueueMsgsTimerPeriod = options.StreamPollPeriod)));
        silo.Services.AddOptions<FlowOptions>().BindConfiguration(FlowOptions.Section);
        silo.Services.TryAddSingleton(TimeProvider.System);
        return silo;
    }
}
