using Microsoft.Extensions.Configuration;

namespace SupportGrid.Silo;

/// <summary>
/// Cluster mode: where silos and gateways meet and keep Orleans' own state. Bound from <c>SupportGrid:Cluster</c>.
/// With no <see cref="Redis"/> the product runs as before (standalone: localhost clustering, SQLite).
/// </summary>
public sealed class ClusterModeOptions
{
    public const string Section = "SupportGrid:Cluster";

    /// <summary>StackExchange.Redis connection string (<c>host:port,password=…,ssl=true</c>). When set, membership, grain
    /// state (<c>support</c>), stream pub-sub state (<c>PubSubStore</c>) and reminders live in this Redis.</summary>
    public string? Redis { get; set; }

    /// <summary>Orleans cluster id: silos and gateways with the same id form one cluster (a deployment; change it for a
    /// blue/green cut-over). In Kubernetes the <c>ORLEANS_CLUSTER_ID</c> variable (from the pod label) takes precedence.</summary>
    public string ClusterId { get; set; } = "supportgrid";

    /// <summary>Orleans service id: stays the same across deployments, because grain state is keyed by it.</summary>
    public string ServiceId { get; set; } = "supportgrid";

    /// <summary>How often a gateway re-reads the list of silos it may connect to.</summary>
    public TimeSpan GatewayListRefreshPeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long an Orleans call may wait for its answer, on silos and gateways (Orleans: 30 s). A call sent to a
    /// silo just before it died gets no answer, and the calls of one SignalR connection run one at a time, so this is
    /// the floor of the time a client waits after a silo dies (see docs/operations.md).</summary>
    public TimeSpan ResponseTimeout { get; set; } = TimeSpan.FromSeconds(5);

    public bool IsRedis => !string.IsNullOrWhiteSpace(Redis);

    public static ClusterModeOptions From(IConfiguration configuration) =>
        configuration.GetSection(Section).Get<ClusterModeOptions>() ?? new ClusterModeOptions();
}
