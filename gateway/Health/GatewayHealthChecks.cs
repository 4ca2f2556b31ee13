using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.Extensions.Diagnostics.HealthChecks;

namespace SupportGrid.Gateway.Health;

/// <summary>
/// The gateway's probes. <c>/health/startup</c>: healthy once the host has started, which in cluster mode means the Orleans
/// client has connected to a silo (in standalone mode, that the co-hosted silo has joined); <c>/health/ready</c>: started,
/// not stopping and, in cluster mode, still connected to at least one silo; <c>/health/live</c> (mapped with the hubs)
/// checks only that the process answers.
/// </summary>
public static class GatewayHealthChecks
{
    public const string Startup = "startup";
    public const string Ready = "ready";

    public static IServiceCollection AddSupportGridGatewayHealth(this IServiceCollection services)
    {
        services.AddHealthChecks()
            .AddCheck<StartedCheck>("started", tags: [Startup, Ready])
            .AddCheck<ClusterConnectionCheck>("cluster-connection", tags: [Ready])
            .AddCheck<DrainingCheck>("draining", tags: [Ready]);
        return services;
    }

    /// <summary>Maps <c>/health/startup</c> and <c>/health/ready</c>.</summary>
    public static IEndpointRouteBuilder MapSupportGridHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/startup", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Startup) });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready) });
        return endpoints;
    }

    private sealed class StartedCheck(IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(
                lifetime.ApplicationStopping.IsCancellationRequested ? HealthCheckResult.Unhealthy("stopping")
                : lifetime.ApplicationStarted.IsCancellationRequested ? HealthCheckResult.Healthy("started")
                : HealthCheckResult.Unhealthy("starting (connecting to the cluster)"));
    }

    /// <summary>Not ready from the moment a stop signal starts the drain (before the host itself begins to stop).</summary>
    private sealed class DrainingCheck(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(services.GetService<Hosting.GatewayDrain>() is { IsDraining: true }
                ? HealthCheckResult.Unhealthy("draining: clients are asked to move to another gateway")
                : HealthCheckResult.Healthy());
    }

    private sealed class ClusterConnectionCheck(IServiceProvider services) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(services.GetService<ClusterConnectionStatus>() is { IsConnected: false }
                ? HealthCheckResult.Unhealthy("lost the connection to every silo")
                : HealthCheckResult.Healthy());
    }
}

/// <summary>Cluster mode: whether the gateway's Orleans client has a connection to at least one silo (registered as the
/// client's <see cref="IClusterConnectionStatusObserver"/>).</summary>
public sealed class ClusterConnectionStatus : IClusterConnectionStatusObserver
{
    private volatile bool _connected = true;

    /// <summary>False after the client lost every silo, until it has one again. Before start-up completes the
    /// <c>started</c> check answers instead.</summary>
    public bool IsConnected => _connected;

    public void NotifyClusterConnectionLost() => _connected = false;

    public void NotifyGatewayCountChanged(int currentNumberOfGateways, int previousNumberOfGateways, bool connectionRecovered) =>
        _connected = currentNumberOfGateways > 0;
}

/// <summary>How a gateway stops. Bound from <c>SupportGrid:Gateway:Drain</c>.</summary>
public sealed class DrainOptions
{
    public const string Section = "SupportGrid:Gateway:Drain";

    /// <summary>How long a stopping gateway may take, after the drain below, to close what is left and stop its Orleans
    /// client. Keep Kubernetes' <c>terminationGracePeriodSeconds</c> longer than <see cref="ReconnectWait"/> plus this
    /// (plus any preStop pause).</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>How long a stopping gateway waits, after pushing <c>Reconnect</c> to every connection, for its clients to
    /// move to another gateway before it closes the connections still open (whose clients then resume the same way).
    /// Readiness is unhealthy from the first moment of the stop.</summary>
    public TimeSpan ReconnectWait { get; set; } = TimeSpan.FromSeconds(10);
}
