using Microsoft.AspNetCore.HttpsPolicy;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Hubs;

namespace SupportGrid.Gateway.Security;

public static class SecurityHostingExtensions
{
    /// <summary>Limits, the hub abuse filter, sign-in throttling, the production settings check and header/origin policies.</summary>
    public static WebApplicationBuilder AddSupportGridSecurity(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddOptions<SecurityOptions>().BindConfiguration(SecurityOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<IValidateOptions<SecurityOptions>, ProductionSettingsValidation>();
        services.AddSingleton<HubAbuseFilter>();
        services.AddSingleton<AddressPenalties>();
        services.AddSingleton<PeerConnectionGate>();
        services.AddOptions<SharedLimitsOptions>().BindConfiguration(SharedLimitsOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddSingleton<LocalAddressLimits>();
        services.AddSingleton<LocalSignInThrottle>();
        if (SharesLimits(builder.Configuration))
        {
            // Cluster mode: new chats and connections per address, and failed sign-ins per username and per address,
            // counted by all gateways together, through Redis.
            services.AddSingleton<SharedLimitsRedis>();
            services.AddSingleton<ISignInThrottle, RedisSignInThrottle>();
            services.AddSingleton<RedisAddressLimits>();
            services.AddSingleton<IAddressLimits>(sp => sp.GetRequiredService<RedisAddressLimits>());
            services.AddHostedService(sp => sp.GetRequiredService<RedisAddressLimits>());
        }
        else
        {
            services.AddSingleton<IAddressLimits>(sp => sp.GetRequiredService<LocalAddressLimits>());
            services.AddSingleton<ISignInThrottle>(sp => sp.GetRequiredService<LocalSignInThrottle>());
        }
        services.AddSingleton<AgentConnectionRevoker>();
        // A hub uses its own HubOptions<THub> only when AddHubOptions<THub> registered SignalR's setup for it (which copies
        // the global options and marks the hub's as set); otherwise it silently uses the global options (32 KB), whatever
        // HubOptions<THub> says. That was the case here until session 5: the agent hub's larger limit never applied.
        // The limits themselves go on after that setup (PostConfigure), from the security options.
        services.AddSignalR(o => o.AddFilter<HubAbuseFilter>())
            .AddHubOptions<CustomerHub>(_ => { })
            .AddHubOptions<AgentHub>(_ => { });
        services.AddOptions<HubOptions<CustomerHub>>().PostConfigure<IOptions<SecurityOptions>>((hub, security) =>
            hub.MaximumReceiveMessageSize = security.Value.CustomerHubMaxMessageBytes);
        services.AddOptions<HubOptions<AgentHub>>().PostConfigure<IOptions<SecurityOptions>>((hub, security) =>
            hub.MaximumReceiveMessageSize = security.Value.AgentHubMaxMessageBytes);
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<SecurityOptions>>((kestrel, security) =>
        {
            var limits = kestrel.Limits;
            limits.MaxRequestBodySize = security.Value.MaxRequestBodyBytes;
            limits.MaxRequestHeadersTotalSize = security.Value.MaxRequestHeadersBytes;
            limits.RequestHeadersTimeout = security.Value.RequestHeadersTimeout;
            limits.MaxConcurrentConnections = security.Value.MaxConcurrentConnections;
            limits.MaxConcurrentUpgradedConnections = security.Value.MaxConcurrentConnections;
        });
        // Every endpoint the gateway listens on (Urls, ASPNETCORE_URLS, Kestrel:Endpoints): Kestrel runs the endpoint
        // defaults for each as it binds, before it adds TLS and HTTP. (A ListenOptions made in code before this runs would
        // miss it; the gateway makes none.)
        services.AddOptions<KestrelServerOptions>().Configure<PeerConnectionGate>((kestrel, gate) =>
            kestrel.ConfigureEndpointDefaults(listen => listen.Use(gate.Wrap)));
        services.AddOptions<HstsOptions>().Configure<IOptions<SecurityOptions>>((hsts, security) =>
        {
            hsts.MaxAge = security.Value.HstsMaxAge;
            hsts.IncludeSubDomains = false;
            hsts.ExcludedHosts.Clear(); // sent over HTTPS only, whatever the host is called
        });
        // Hosting logs every request's full URL, and a console's WebSocket URL carries its bearer token (access_token):
        // request start/finish lines stay out of the logs at every configured level.
        builder.Logging.AddFilter("Microsoft.AspNetCore.Hosting.Diagnostics", LogLevel.Warning);
        return builder;
    }

    /// <summary>Cluster mode with a Redis (the cluster's or <see cref="SharedLimitsOptions.Redis"/>), unless turned off.</summary>
    private static bool SharesLimits(IConfiguration configuration)
    {
        var shared = configuration.GetSection(SharedLimitsOptions.Section).Get<SharedLimitsOptions>() ?? new SharedLimitsOptions();
        return configuration["SupportGrid:Mode"] == Hosting.GatewayModes.Cluster && shared.Enabled
            && (Silo.ClusterModeOptions.From(configuration).IsRedis || !string.IsNullOrWhiteSpace(shared.Redis));
    }

    /// <summary>Headers, HSTS in production, the origin check and the agent token's move out of the query string.
    /// Goes right after the forwarded headers (scheme and address are the client's) and before CORS and the endpoints.</summary>
    public static WebApplication UseSupportGridSecurity(this WebApplication app)
    {
        app.UseMiddleware<SecurityHeadersMiddleware>();
        var security = app.Services.GetRequiredService<IOptions<SecurityOptions>>().Value;
        if (security.EnforceProductionSettings ?? app.Environment.IsProduction())
            app.UseHsts();
        app.UseMiddleware<OriginCheckMiddleware>();
        app.UseMiddleware<ConnectionGateMiddleware>();
        app.UseMiddleware<AccessTokenQueryMiddleware>();
        return app;
    }
}
