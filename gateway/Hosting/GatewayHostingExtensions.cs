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
using SupportGrid.Silo.Telemetry;

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
                    .AddSupportGridTelemetry(builder.Configuration)
                    // A gateway publishes too (ChannelFanout's probes): it must map a channel to the queue the silos read it from.
                    .AddPersistentStreams(StreamNames.Provider, Grains.Streams.ChannelQueueAdapterFactory.Create, streams =>
                        streams.Configure<Orleans.Configuration.HashRingStreamQueueMapperOptions>(mapper => mapper.Configure(o =>
                            o.TotalQueueCount = (builder.Configuration.GetSection(Silo.SiloOptions.Section).Get<Silo.SiloOptions>() ?? new()).StreamQueues))));
                // A stopping gateway sends its clients to the others before it exits (GatewayDrain.cs).
                builder.Services.AddOptions<Health.DrainOptions>().BindConfiguration(Health.DrainOptions.Section);
                builder.Services.AddSingleton<GatewayDrain>();
                builder.Services.AddHostedService(sp => sp.GetRequiredService<GatewayDrain>());
                builder.Services.AddSingleton<IHostLifetime, DrainingLifetime>(); // the drain runs on the signal, before the stop
                builder.Services.Configure<HubOptions>(hubs => hubs.AddFilter<DrainFilter>());
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
        services.AddSupportGridTelemetry(builder.Configuration, "supportgrid-gateway");

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
                        else if (context.HttpContext.Request.Path.StartsWithSegments(TelemetryOptions.DashboardPath))
                        {
                            context.Token = DashboardToken(context.HttpContext);
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
            forwarded.ForwardedHeaders = gateway.Value.KnownProxies.Count + gateway.Value.KnownNetworks.Count > 0
                ? ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto
                : ForwardedHeaders.None;
            forwarded.KnownIPNetworks.Clear();
            forwarded.KnownProxies.Clear();
            foreach (var proxy in gateway.Value.KnownProxies)
                forwarded.KnownProxies.Add(IPAddress.Parse(proxy));
            foreach (var network in gateway.Value.KnownNetworks)
                forwarded.KnownIPNetworks.Add(System.Net.IPNetwork.Parse(network));
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
        app.MapSupportGridMetrics();
        app.MapSupportGridDashboard(Admin.AdminApi.Policy);
        return app;
    }

    private const string DashboardCookie = "sg_dashboard";

    /// <summary>
    /// A browser cannot put a bearer token on a page it navigates to, nor on the dashboard's own requests: an admin opens
    /// <c>/dashboard/?access_token=...</c> once (a token from <c>/api/auth/token</c>), and the token is kept in an HttpOnly,
    /// SameSite=Strict cookie limited to the dashboard's path for the dashboard's later requests. The admin role is checked
    /// on every request, whichever way the token came.
    /// </summary>
    private static string? DashboardToken(HttpContext http)
    {
        if (http.Request.Headers.Authorization.Count > 0)
            return null; // the handler reads the header itself; it wins over a cookie from an earlier sign-in
        if (http.Request.Query["access_token"] is { Count: > 0 } query && !string.IsNullOrEmpty(query[0]))
        {
            http.Response.Cookies.Append(DashboardCookie, query[0]!, new CookieOptions
            {
                HttpOnly = true,
                Secure = http.Request.IsHttps,
                SameSite = SameSiteMode.Strict,
                Path = TelemetryOptions.DashboardPath,
            });
            return query[0];
        }
        return http.Request.Cookies[DashboardCookie];
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
