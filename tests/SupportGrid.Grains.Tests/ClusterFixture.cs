using Microsoft.Extensions.Configuration;
using Orleans.TestingHost;
using SupportGrid.Silo;

namespace SupportGrid.Grains.Tests;

/// <summary>A two-silo in-process cluster configured like production, with a short offer timeout.</summary>
public class ClusterFixture : IAsyncLifetime
{
    public static readonly TimeSpan OfferTimeout = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan AgentDisconnectGrace = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AbandonGrace = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan AffinityWait = TimeSpan.FromSeconds(1.5);

    /// <summary>The usage-record database of this cluster: a real SQLite file, shared by both silos.</summary>
    public readonly string RecordsFile = Path.Combine(Path.GetTempPath(), $"sg-records-{Guid.NewGuid():N}.db");

    /// <summary>The grain-state database: a real SQLite file shared by the silos, so state outlives a killed silo.</summary>
    public readonly string StateFile = Path.Combine(Path.GetTempPath(), $"sg-state-{Guid.NewGuid():N}.db");

    public InProcessTestCluster Cluster { get; }

    public IClusterClient Client => Cluster.Client;

    public ClusterFixture() : this(2)
    {
    }

    protected ClusterFixture(short silos)
    {
        var builder = new InProcessTestClusterBuilder(silos);
        var settings = new Dictionary<string, string?>
        {
            ["Logging:LogLevel:Default"] = "Warning",
            ["SupportGrid:Flow:OfferTimeout"] = OfferTimeout.ToString(),
            ["SupportGrid:Flow:PositionUpdateInterval"] = "00:00:00.200",
            ["SupportGrid:Flow:AgentDisconnectGrace"] = AgentDisconnectGrace.ToString(),
            ["SupportGrid:Flow:AbandonGrace"] = AbandonGrace.ToString(),
            ["SupportGrid:Flow:MaxMissedOffers"] = "2",
            ["SupportGrid:Flow:ClaimTimeout"] = "00:00:03",
            ["SupportGrid:Flow:EndedLinger"] = "00:00:01",
            ["SupportGrid:Records:SqliteConnectionString"] = $"Data Source={RecordsFile}",
            ["SupportGrid:Storage:SqliteConnectionString"] = $"Data Source={StateFile}",
            ["SupportGrid:Routing:TierPriorities:vip"] = "10",
            // Most tests queue customers before any agent is there; the offline tests turn it on for their own sites.
            ["SupportGrid:Routing:OfflineWhenNoAgents"] = "false",
            ["SupportGrid:Routing:Queues:offline:sales:OfflineWhenNoAgents"] = "true",
            ["SupportGrid:Routing:Hours:closed:TimeZone"] = "UTC",
            ["SupportGrid:Routing:Hours:closed:Weekly:Mon"] = "00:00-00:01",
            ["SupportGrid:Routing:AffinityWait"] = AffinityWait.ToString(),
            // Offers to two agents at once; a queue that overflows after a second to another that asks for a message.
            ["SupportGrid:Routing:Queues:multi:sales:OfferToAgents"] = "2",
            ["SupportGrid:Routing:Queues:prio:high:Priority"] = "10",
            ["SupportGrid:Routing:Queues:overflow:sales:MaxWait"] = "00:00:01",
            ["SupportGrid:Routing:Queues:overflow:sales:OverflowTo"] = "help",
            ["SupportGrid:Routing:Queues:overflow:help:MaxWait"] = "00:00:01.500",
            ["SupportGrid:Routing:AccountManagers:managed:cust-7"] = "managed-Manager",
            ["SupportGrid:Routing:AccountManagers:managed2:cust-7"] = "managed2-Manager",
        };
        builder.ConfigureSiloHost((_, host) => host.Configuration.AddInMemoryCollection(settings));
        builder.ConfigureSilo((_, silo) => silo.AddSupportGrid(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()));
        Cluster = builder.Build();
    }

    public Task InitializeAsync() => Cluster.DeployAsync();

    public async Task DisposeAsync() => await Cluster.DisposeAsync();
}

/// <summary>Three silos, for tests that kill one; its own cluster so the kill disturbs no other test.</summary>
public sealed class ThreeSiloClusterFixture() : ClusterFixture(3);

[CollectionDefinition(Name)]
public sealed class ThreeSiloCollection : ICollectionFixture<ThreeSiloClusterFixture>
{
    public const string Name = "three silos";
}

[CollectionDefinition(Name)]
public sealed class ClusterCollection : ICollectionFixture<ClusterFixture>
{
    public const string Name = "cluster";
}
