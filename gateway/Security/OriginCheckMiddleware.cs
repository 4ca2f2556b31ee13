using Microsoft.Net.Http.Headers;
using SupportGrid.Gateway.Sites;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Refuses browser requests from foreign pages with 403 before they reach a hub, the widget module or an API:
/// the customer surfaces (<c>/hubs/customer</c> on every transport: negotiate, WebSocket upgrade, long polling,
/// server-sent events; <c>/widget/</c>; <c>/api/customer</c>) accept the configured sites' origins (and the gateway's own
/// when a site sets <c>AllowGatewayOrigin</c>); the console surfaces (<c>/hubs/agent</c>, <c>/console</c>, the other
/// <c>/api</c> routes) accept the gateway's own origin only. SignalR's CORS support covers only negotiate, and browsers
/// send no preflight for a WebSocket, so this check is what keeps a foreign page from using a shopper's or an agent's
/// browser. A request without <c>Origin</c> is not from a page's script and passes: this is not authentication.
/// </summary>
public sealed partial class OriginCheckMiddleware(RequestDelegate next, SiteDirectory sites, ILogger<OriginCheckMiddleware> logger)
{
    public Task InvokeAsync(HttpContext context)
    {
        var origin = context.Request.Headers[HeaderNames.Origin].ToString();
        if (origin.Length == 0)
            return next(context);
        var surface = SurfaceOf(context.Request.Path);
        if (surface == Surface.None)
            return next(context);
        var own = GatewayOrigin(context.Request);
        var allowed = surface == Surface.Customer
            ? sites.IsAnySiteOrigin(origin, own)
            : OriginEquals(origin, own);
        if (allowed)
            return next(context);
        LogRefused(logger, origin, context.Request.Path.Value ?? "", context.Connection.RemoteIpAddress?.ToString());
        return RefuseAsync(context);
    }

    private static async Task RefuseAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status403Forbidden;
        var written = await context.RequestServices.GetRequiredService<IProblemDetailsService>().TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            ProblemDetails =
            {
                Status = StatusCodes.Status403Forbidden,
                Title = SecurityErrorCodes.ForbiddenOrigin,
                Detail = "Requests from this origin are not accepted here.",
            },
        });
        if (!written) // the client accepts no JSON (an EventSource): the status says it all
            await context.Response.WriteAsync(SecurityErrorCodes.ForbiddenOrigin);
    }

    /// <summary>The origin of the gateway itself as the browser sees it (scheme and host, after forwarded headers).</summary>
    public static string GatewayOrigin(HttpRequest request) => $"{request.Scheme}://{request.Host}";

    public static bool OriginEquals(string a, string b) =>
        string.Equals(a.TrimEnd('/'), b.TrimEnd('/'), StringComparison.OrdinalIgnoreCase);

    private enum Surface { None, Customer, Console }

    private static Surface SurfaceOf(PathString path)
    {
        if (path.StartsWithSegments("/hubs/customer") || path.StartsWithSegments("/widget") || path.StartsWithSegments("/api/customer"))
            return Surface.Customer;
        if (path.StartsWithSegments("/hubs") || path.StartsWithSegments("/api") || path.StartsWithSegments("/console"))
            return Surface.Console;
        return Surface.None;
    }

    [LoggerMessage(EventId = 8001, Level = LogLevel.Warning, Message = "Refused a request from foreign origin {Origin} to {Path} (address {RemoteIp})")]
    private static partial void LogRefused(ILogger logger, string origin, string path, string? remoteIp);
}
