using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime.Hosting;
using StackExchange.Redis;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains;
using SupportGrid.Grains.Records;
using SupportGrid.Grains.Streams;
using SupportGrid.Silo.Records;
using SupportGrid.Silo.Storage;
using SupportGrid.Silo.Telemetry;

namespace SupportGrid.Silo;

/// <summary>Everything a SupportGrid silo needs, shared by the silo host, the gateway's standalone mode and the tests.</summary>
public static class SiloHostingExtensions
{
    /// <summary>Grain storage, the channel stream provider (long-polling queues), routing and the flow options.</summary>
    public static ISiloBuilder AddSupportGrid(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Options(configuration);
        var cluster = ClusterModeOptions.From(configuration);
        GrainInterfaceTypeCache.AddTo(silo.Services);
        var storage = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        switch (storage.Provider ?? (cluster.IsRedis ? "redis" : "sqlite"))
        {
            case "sqlite":
                // Registered once per silo; several silos in one process (tests) share the file, which outlives any one of them.
                silo.Services.AddGrainStorage(GrainStorage.Name, (sp, _) =>
                    new SqliteGrainStorage(storage.SqliteConnectionString, sp.GetRequiredService<Orleans.Serialization.Serializer>()));
                break;
            case "memory":
                AddMemoryGrainStorage(silo, GrainStorage.Name);
                break;
            case "redis":
                AddRedisGrainStorage(silo, GrainStorage.Name, RequireRedis(cluster, "SupportGrid:Storage:Provider=redis"));
                break;
            default:
                throw new InvalidOperationException($"SupportGrid:Storage:Provider must be 'sqlite', 'memory' or 'redis', not '{storage.Provider}'.");
        }
        if (cluster.IsRedis)
        {
            // Stream subscriptions (which gateway listens to which channel) must outlive the silo that holds them.
            AddRedisGrainStorage(silo, "PubSubStore", cluster.Redis!);
            silo.UseRedisReminderService(o => o.ConfigurationOptions = RedisOptions(cluster.Redis!));
        }
        else
        {
            AddMemoryGrainStorage(silo, "PubSubStore");
        }
        // Channel broadcasts: Orleans persistent streams over in-memory queues read by long poll (grains/Streams/ChannelQueue.cs).
        silo.AddPersistentStreams(StreamNames.Provider, ChannelQueueAdapterFactory.Create, streams =>
        {
            streams.ConfigurePullingAgent(agent => agent.Configure(o =>
            {
                o.GetQueueMsgsTimerPeriod = options.StreamPollPeriod;
                // How long a pulling agent keeps retrying a handshake or a delivery to one subscriber (Orleans' default: a
                // minute). A gateway that died leaves its subscriptions behind until the cluster drops it as a client;
                // while a moved queue's agent retries the handshake with it, the stream is not registered and nothing on
                // it is delivered, to the live gateways either (ClusterScenarioTests: a minute of silence after a gateway
                // kill and then a silo stop). A channel event given up is not lost: it is stored, and clients fetch what
                // a later push shows they missed.
                o.MaxEventDeliveryTime = options.StreamDeliveryTimeout;
                o.StreamInactivityPeriod = options.StreamInactivityPeriod;
            }));
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
        silo.Services.AddSupportGridRecordStore(configuration);
        silo.Services.AddSingleton<SessionRecorder>();
        silo.Services.AddHostedService(sp => sp.GetRequiredService<SessionRecorder>());
        silo.AddSupportGridTelemetry(configuration);
        return silo;
    }

    /// <summary>The usage-record store chosen by <c>SupportGrid:Records:Provider</c> (unless one is registered already).</summary>
    public static IServiceCollection AddSupportGridRecordStore(this IServiceCollection services, IConfiguration configuration)
    {
        var records = configuration.GetSection(RecordsOptions.Section).Get<RecordsOptions>() ?? new RecordsOptions();
        switch (records.Provider)
        {
            case RecordsProviders.Sqlite:
                services.TryAddSingleton<ISessionRecordStore, SqliteSessionRecordStore>();
                break;
            case RecordsProviders.Postgres:
                if (string.IsNullOrWhiteSpace(records.PostgresConnectionString))
                    throw new InvalidOperationException("SupportGrid:Records:Provider is 'postgres' but SupportGrid:Records:PostgresConnectionString is empty.");
                services.TryAddSingleton<PostgresSessionRecordStore>();
                services.TryAddSingleton<ISessionRecordStore>(sp => sp.GetRequiredService<PostgresSessionRecordStore>());
                break;
            default:
                throw new InvalidOperationException($"SupportGrid:Records:Provider must be '{RecordsProviders.Sqlite}' or '{RecordsProviders.Postgres}', not '{records.Provider}'.");
        }
        return services;
    }

    /// <summary>
    /// How this silo finds the others. Cluster mode (<c>SupportGrid:Cluster:Redis</c> set): Redis membership, the configured
    /// ports on the advertised address, tuned failure detection, and Kubernetes hosting when running in a pod. Otherwise
    /// localhost clustering on the configured ports (standalone mode and local experiments), as before.
    /// </summary>
    public static ISiloBuilder UseSupportGridClustering(this ISiloBuilder silo, IConfiguration configuration)
    {
        var options = Options(configuration);
        var cluster = ClusterModeOptions.From(configuration);
        if (!cluster.IsRedis)
            return silo.UseLocalhostClustering(options.SiloPort, options.GatewayPort);

        silo.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(cluster.Redis!));
        silo.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
        if (!string.IsNullOrWhiteSpace(options.AdvertisedIPAddress))
            silo.ConfigureEndpoints(IPAddress.Parse(options.AdvertisedIPAddress), options.SiloPort, options.GatewayPort, options.ListenOnAnyHostAddress);
        else
            silo.ConfigureEndpoints(options.SiloPort, options.GatewayPort, listenOnAnyHostAddress: options.ListenOnAnyHostAddress);
        silo.Configure<SiloMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
        silo.Services.AddOptions<ClusterMembershipOptions>()
            .Configure(MembershipTuning.Apply)
            .BindConfiguration(MembershipTuning.Section);
        if (IsKubernetes)
        {
            // Sets the cluster and service ids from the pod's labels, the advertised address from the pod IP, the silo name
            // from the pod name, and deletes the pods of silos the cluster declared dead. Fails outside Kubernetes.
            silo.UseKubernetesHosting();
        }
        return silo;
    }

    /// <summary>The gateway's side of <see cref="UseSupportGridClustering(ISiloBuilder, IConfiguration)"/>.</summary>
    public static IClientBuilder UseSupportGridClustering(this IClientBuilder client, IConfiguration configuration)
    {
        var options = Options(configuration);
        var cluster = ClusterModeOptions.From(configuration);
        GrainInterfaceTypeCache.AddTo(client.Services);
        if (!cluster.IsRedis)
            return client.UseLocalhostClustering(options.GatewayPort);
        client.UseRedisClustering(o => o.ConfigurationOptions = RedisOptions(cluster.Redis!));
        client.Configure<ClusterOptions>(o => (o.ClusterId, o.ServiceId) = (cluster.ClusterId, cluster.ServiceId));
        client.Configure<GatewayOptions>(o => o.GatewayListRefreshPeriod = cluster.GatewayListRefreshPeriod);
        client.Configure<ClientMessagingOptions>(o => o.ResponseTimeout = cluster.ResponseTimeout);
        return client;
    }

    /// <summary>True inside a Kubernetes pod (the variable every pod gets).</summary>
    public static bool IsKubernetes => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable("KUBERNETES_SERVICE_HOST"));

    /// <summary>Memory storage copies state through a serializer; its default is Newtonsoft JSON, which the route profile
    /// showed at 8% of all allocation (every stream subscription writes the pub-sub state): the binary format instead.</summary>
    private static void AddMemoryGrainStorage(ISiloBuilder silo, string name) =>
        silo.AddMemoryGrainStorage(name, ob => ob.Configure<Orleans.Serialization.Serializer>((o, serializer) =>
            o.GrainStorageSerializer = new BinaryGrainStorageSerializer(serializer)));

    private static void AddRedisGrainStorage(ISiloBuilder silo, string name, string redis) =>
        silo.AddRedisGrainStorage(name, ob => ob.Configure<Orleans.Serialization.Serializer>((o, serializer) =>
        {
            o.ConfigurationOptions = RedisOptions(redis);
            // The Orleans binary format, as the SQLite store uses: version-tolerant through the [Id] attributes of the state records.
            o.GrainStorageSerializer = new BinaryGrainStorageSerializer(serializer);
            // A cleared record is deleted, as in the SQLite store. Kept (the provider's default), it stays behind with an
            // ETag, and a state record created afresh under the same name (an emptied queue page that fills again:
            // StatePages) is refused as a version conflict; seen in ClusterScenarioTests as the second StartChat failing.
            o.DeleteStateOnClear = true;
        }));

    private static ConfigurationOptions RedisOptions(string connectionString)
    {
        var redis = ConfigurationOptions.Parse(connectionString);
        // Keep retrying while Redis restarts or fails over rather than failing the silo's start.
        redis.AbortOnConnectFail = false;
        return redis;
    }

    private static string RequireRedis(ClusterModeOptions cluster, string what) =>
        cluster.Redis ?? throw new InvalidOperationException($"{what} needs SupportGrid:Cluster:Redis (a Redis connection string).");

    private static SiloOptions Options(IConfiguration configuration) =>
        configuration.GetSection(SiloOptions.Section).Get<SiloOptions>() ?? new SiloOptions();
}
