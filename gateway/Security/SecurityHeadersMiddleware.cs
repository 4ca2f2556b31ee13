using Microsoft.Net.Http.Headers;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// <c>X-Content-Type-Options: nosniff</c> on every response; a Content-Security-Policy on the agent console (scripts,
/// styles and connections from the gateway only, never framed: <c>frame-ancestors 'none'</c>) and on the widget's
/// scripts (which run in retailers' pages, so they must stay embeddable as scripts but never render as documents).
/// </summary>
public sealed class SecurityHeadersMiddleware(RequestDelegate next)
{
    /// <summary>The console's policy. Inline styles stay allowed for the page mirror's replayed stylesheets; scripts never.</summary>
    public const string ConsolePolicy =
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; font-src 'self' data:; " +
        "connect-src 'self'; frame-src 'self' blob:; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The widget scripts' policy: as a document they may do nothing.</summary>
    public const string WidgetPolicy = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'";

    public Task InvokeAsync(HttpContext context)
    {
        var path = context.Request.Path;
        var policy = path.StartsWithSegments("/console") ? ConsolePolicy
            : path.StartsWithSegments("/widget") || path.Equals("/widget.js", StringComparison.OrdinalIgnoreCase) ? WidgetPolicy
            : null;
        context.Response.OnStarting(() =>
        {
            var headers = context.Response.Headers;
            headers[HeaderNames.XContentTypeOptions] = "nosniff";
            if (policy is not null)
                headers[HeaderNames.ContentSecurityPolicy] = policy;
            if (ReferenceEquals(policy, ConsolePolicy))
            {
                headers[HeaderNames.XFrameOptions] = "DENY";
                headers["Referrer-Policy"] = "no-referrer";
            }
            return Task.CompletedTask;
        });
        return next(context);
    }
}
