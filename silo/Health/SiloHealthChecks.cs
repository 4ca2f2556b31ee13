using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Hosting;

namespace SupportGrid.Silo.Health;

/// <summary>
/// The silo's probes. <c>/health/startup</c>: healthy once this silo has joined the cluster (membership status Active);
/// <c>/health/ready</c>: a member now and not shutting down; <c>/health/live</c>: the process answers (it checks nothing
/// else, so a slow Redis never gets a silo restarted).
/// </summary>
public static class SiloHealthChecks
{
    public const string Startup = "startup";
    public const string Ready = "ready";

    public static IServiceCollection AddSupportGridSiloHealth(this IServiceCollection services)
    {
        // The joined check remembers: one instance for the process.
        services.AddSingleton<SiloJoinedCheck>();
        services.AddHealthChecks()
            .Add(new HealthCheckRegistration("silo-joined", sp => sp.GetRequiredService<SiloJoinedCheck>(), null, [Startup]))
            .AddCheck<SiloActiveCheck>("silo-active", tags: [Ready]);
        return services;
    }

    public static IEndpointRouteBuilder MapSupportGridHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/startup", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Startup) });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = c => c.Tags.Contains(Ready) });
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        return endpoints;
    }

    /// <summary>Has this silo been an active member at least once (a startup probe stops asking after its first success).</summary>
    private sealed class SiloJoinedCheck(IServiceProvider services) : IHealthCheck
    {
        private volatile bool _joined;

        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            _joined = _joined || Status(services) == SiloStatus.Active;
            return Task.FromResult(_joined ? HealthCheckResult.Healthy("joined") : HealthCheckResult.Unhealthy($"not joined yet ({Status(services)})"));
        }
    }

    /// <summary>An active member that is not stopping.</summary>
    private sealed class SiloActiveCheck(IServiceProvider services, IHostApplicationLifetime lifetime) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            var status = Status(services);
            return Task.FromResult(status == SiloStatus.Active && !lifetime.ApplicationStopping.IsCancellationRequested
                ? HealthCheckResult.Healthy("active")
                : HealthCheckResult.Unhealthy(lifetime.ApplicationStopping.IsCancellationRequested ? "stopping" : status.ToString()));
        }
    }

    /// <summary>The membership status of this silo. The oracle exists once the silo's services are built, which with the
    /// web host starting beside the silo may be after the first probe.</summary>
    private static SiloStatus Status(IServiceProvider services) =>
        services.GetService<ISiloStatusOracle>()?.CurrentStatus ?? SiloStatus.None;
}
