using System.Net;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication.JwtBearer;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Fanout;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Records;
using SupportGrid.Gateway.Security;
using SupportGrid.Gateway.Sites;
using SupportGrid.GrainInterfaces;
using SupportGrid.Silo;

namespace SupportGrid.Gateway.Hosting;

public static class GatewayHostingExtensions
{
    public const string SitesCorsPolicy = "sites";

    /// <summary>Standalone: co-host a silo. Cluster: connect to the silos as a client.</summary>
    public static WebApplicationBuilder AddSupportGridCluster(this WebApplicationBuilder builder)
    {
        var mode = builder.Configuration["SupportGrid:Mode"] ?? GatewayModes.Standalone;
        switch (mode)
        {
            case GatewayModes.Standalone:
                builder.UseOrleans(silo => silo.UseSupportGridClustering(builder.Configuration).AddSupportGrid(builder.Configuration));
                break;
            case GatewayModes.Cluster:
                // Redis membership when SupportGrid:Cluster:Redis is set, else the local silo's gateway port (a dev cluster).
                var drain = builder.Configuration.GetSection(Health.DrainOptions.Section).Get<Health.DrainOptions>() ?? new Health.DrainOptions();
                builder.Host.ConfigureHostOptions(host =>
                {
                    // Kestrel answers the probes while the client is still connecting (startup reports 503 until then).
                    host.ServicesStartConcurrently = true;
                    host.ShutdownTimeout = drain.ShutdownTimeout;
                });
                var connection = new Health.ClusterConnectionStatus();
                builder.Services.AddSingleton(connection);
                builder.UseOrleansClient(client => client
                    .UseSupportGridClustering(builder.Configuration)
                    .AddClusterConnectionStatusObserver(connection)
                    .AddPersistentStreams(StreamNames.Provider, Grains.Streams.ChannelQueueAdapterFactory.Create, null));
                break;
            default:
                throw new InvalidOperationException($"SupportGrid:Mode must be '{GatewayModes.Standalone}' or '{GatewayModes.Cluster}', not '{mode}'.");
        }
        return builder;
    }

    /// <summary>Hubs, agent sign-in, sites, CORS for the sites' origins, forwarded headers from known proxies.</summary>
    public static WebApplicationBuilder AddSupportGridGateway(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.TryAddTimeProvider();
        services.AddOptions<SitesOptions>().BindConfiguration(SitesOptions.Section);
        services.AddOptions<AgentDirectoryOptions>().BindConfiguration(AgentDirectoryOptions.Section);
        services.AddOptions<AuthOptions>().BindConfiguration(AuthOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        services.AddOptions<GatewayOptions>().BindConfiguration(GatewayOptions.Section);
        services.AddSingleton<SiteDirectory>();
        services.AddSingleton<AgentDirectory>();
        services.AddSingleton<TokenService>();
        services.AddSingleton<ConnectionRegistry>();
        services.AddSingleton<ChannelFanout>();
        services.AddSingleton<GatewayObserver>();
        services.AddSingleton<GatewayEndpoint>();
        services.AddSingleton<IUserIdProvider, SubjectUserIdProvider>();
        services.AddProblemDetails();

        services.AddSignalR(o => o.AddFilter<HubErrorFilter>());

        services.AddAuthentication(JwtBearerDefaults.AuthenticationScheme).AddJwtBearer();
        services.AddOptions<JwtBearerOptions>(JwtBearerDefaults.AuthenticationScheme)
            .Configure<TokenService, IOptions<AuthOptions>>((jwt, tokens, auth) =>
            {
                jwt.MapInboundClaims = false;
                if (!string.IsNullOrEmpty(auth.Value.Authority))
                {
                    jwt.Authority = auth.Value.Authority;
                    jwt.Audience = auth.Value.Audience;
                    jwt.TokenValidationParameters.NameClaimType = "name";
                }
                else
                {
                    jwt.TokenValidationParameters = tokens.ValidationParameters();
                }
                // Browsers cannot set headers on a WebSocket: SignalR sends the token in the query string of hub requests only.
                jwt.Events = new JwtBearerEvents
                {
                    OnMessageReceived = context =>
                    {
                        if (context.HttpContext.Request.Path.StartsWithSegments("/hubs/agent")
                            && context.Request.Query["access_token"] is { Count: > 0 } token)
                        {
                            context.Token = token;
                        }
                        return Task.CompletedTask;
                    },
                };
            });
        services.AddAuthorizationBuilder().AddPolicy(AgentHub.Policy, p => p
            .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
            .RequireAuthenticatedUser()
            .RequireClaim("sub"))
            .AddPolicy(SessionsApi.Policy, p => p
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole("supervisor", "admin"))
            .AddPolicy(Admin.AdminApi.Policy, p => p
                .AddAuthenticationSchemes(JwtBearerDefaults.AuthenticationScheme)
                .RequireAuthenticatedUser()
                .RequireRole("admin"));

        services.AddCors();
        services.AddOptions<Microsoft.AspNetCore.Cors.Infrastructure.CorsOptions>().Configure<SiteDirectory>((cors, sites) =>
            cors.AddPolicy(SitesCorsPolicy, policy => policy
                .SetIsOriginAllowed(sites.IsSiteOrigin)
                .AllowAnyHeader()
                .AllowAnyMethod()));

        services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<GatewayOptions>>((forwarded, gateway) =>
        {
            // Empty known-proxy lists make the middleware trust every peer: with no proxy configured, read no forwarded headers.
            forwarded.ForwardedHeaders = gateway.Value.KnownProxies.Count > 0
                ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
                : ForwardedHeaders.None;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in gateway.Value.KnownProxies)
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
        });
        return builder;
    }

    /// <summary>Static front ends, hubs and HTTP endpoints.</summary>
    public static WebApplication MapSupportGrid(this WebApplication app)
    {
        app.UseForwardedHeaders();
        app.UseSupportGridSecurity();
        app.UseCors(SitesCorsPolicy);
        app.UseDefaultFiles();
        app.UseStaticFiles();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapHub<CustomerHub>("/hubs/customer");
        // An expired console token closes its connection (SignalR keeps it open otherwise).
        app.MapHub<AgentHub>("/hubs/agent", o => o.CloseOnAuthenticationExpiration = true);
        app.MapAuthApi();
        app.MapSessionsApi();
        Admin.AdminApi.MapAdminApi(app);
        app.MapGet("/", () => Results.Redirect("/demo/"));
        app.MapGet("/health/live", () => Results.Ok("live"));
        return app;
    }

    private static void TryAddTimeProvider(this IServiceCollection services)
    {
        if (!services.Any(d => d.ServiceType == typeof(TimeProvider)))
            services.AddSingleton(TimeProvider.System);
    }

    private sealed class SubjectUserIdProvider : IUserIdProvider
    {
        public string? GetUserId(HubConnectionContext connection) =>
            connection.User.FindFirstValue("sub") ?? connection.User.FindFirstValue(ClaimTypes.NameIdentifier);
    }
}
