using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using OpenTelemetry;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;
using Orleans.Dashboard;
using SupportGrid.Grains;

namespace SupportGrid.Silo.Telemetry;

/// <summary>
/// Metrics and traces for silos and gateways alike. Metrics: Orleans' meter (<c>Microsoft.Orleans</c>), ours
/// (<c>SupportGrid</c>: queue length, wait time, active chats, offers declined or timed out, retried gateway calls) and
/// ASP.NET Core's, served for Prometheus at <see cref="TelemetryOptions.PrometheusPath"/>. Traces, only when
/// <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set: hub invocations (ASP.NET Core's SignalR source) through every grain call
/// they make (Orleans activity propagation on silos and on the gateway's client), exported by OTLP with the metrics.
/// Without an endpoint no trace is recorded and no propagation filter runs, so a message costs nothing extra.
/// </summary>
public static class SupportGridTelemetry
{
    /// <summary>Orleans' activity sources: calls made by a grain or client, and calls handled by grains.</summary>
    public static readonly string[] OrleansSources = ["Microsoft.Orleans.Runtime", "Microsoft.Orleans.Application"];

    public static readonly string[] Meters =
    [
        "Microsoft.Orleans", SupportGridMetrics.MeterName,
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Http.Connections",
    ];

    public static TelemetryOptions Options(IConfiguration configuration) =>
        configuration.GetSection(TelemetryOptions.Section).Get<TelemetryOptions>() ?? new TelemetryOptions();

    /// <summary>True when traces are exported (an OTLP endpoint is configured, by the standard OpenTelemetry variable).</summary>
    public static bool Tracing(IConfiguration configuration) =>
        !string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]);

    /// <summary>OpenTelemetry for this process, named <paramref name="serviceName"/> (<c>OTEL_SERVICE_NAME</c> overrides).</summary>
    public static IServiceCollection AddSupportGridTelemetry(this IServiceCollection services, IConfiguration configuration, string serviceName)
    {
        services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.Section);
        var telemetry = services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService(serviceName))
            .WithMetrics(metrics => metrics.AddMeter(Meters).AddPrometheusExporter());
        if (Tracing(configuration))
        {
            telemetry.WithTracing(tracing => tracing
                .AddSource(OrleansSources)
                .AddSource("Microsoft.AspNetCore", "Microsoft.AspNetCore.SignalR.Server"));
            // Reads OTEL_EXPORTER_OTLP_ENDPOINT (and _PROTOCOL, _HEADERS) for traces, metrics and logs.
            telemetry.UseOtlpExporter();
        }
        return services;
    }

    /// <summary>Silo side: trace context carried into grain calls when tracing; the dashboard's collector when enabled.</summary>
    public static ISiloBuilder AddSupportGridTelemetry(this ISiloBuilder silo, IConfiguration configuration)
    {
        if (Tracing(configuration))
            silo.AddActivityPropagation();
        if (Options(configuration).Dashboard)
            silo.AddDashboard();
        return silo;
    }

    /// <summary>Gateway (Orleans client) side of <see cref="AddSupportGridTelemetry(ISiloBuilder, IConfiguration)"/>.</summary>
    public static IClientBuilder AddSupportGridTelemetry(this IClientBuilder client, IConfiguration configuration)
    {
        if (Tracing(configuration))
            client.AddActivityPropagation();
        if (Options(configuration).Dashboard)
            client.AddDashboard();
        return client;
    }

    /// <summary>The Prometheus scrape endpoint.</summary>
    public static IEndpointRouteBuilder MapSupportGridMetrics(this IEndpointRouteBuilder endpoints)
    {
        var options = Options(endpoints.ServiceProvider.GetRequiredService<IConfiguration>());
        endpoints.MapPrometheusScrapingEndpoint(options.PrometheusPath);
        return endpoints;
    }

    /// <summary>The Orleans dashboard at <c>/dashboard</c> when enabled, for callers passing <paramref name="policy"/>.</summary>
    public static IEndpointRouteBuilder MapSupportGridDashboard(this IEndpointRouteBuilder endpoints, string policy)
    {
        if (Options(endpoints.ServiceProvider.GetRequiredService<IConfiguration>()).Dashboard)
            endpoints.MapOrleansDashboard(routePrefix: TelemetryOptions.DashboardPath).RequireAuthorization(policy);
        return endpoints;
    }
}

/// <summary>Telemetry settings. Bound from <c>SupportGrid:Telemetry</c>; the OTLP exporter takes the standard
/// <c>OTEL_EXPORTER_OTLP_*</c> variables.</summary>
public sealed class TelemetryOptions
{
    public const string Section = "SupportGrid:Telemetry";
    public const string DashboardPath = "/dashboard";

    /// <summary>Path of the Prometheus scrape endpoint (text exposition format).</summary>
    public string PrometheusPath { get; set; } = "/metrics";

    /// <summary>The Orleans dashboard: silos collect per-grain-method call statistics (a small cost on every grain call)
    /// and gateways serve the dashboard at <c>/dashboard</c> to the admin role. Off unless set; set it on silos and
    /// gateways alike.</summary>
    public bool Dashboard { get; set; }
}
