using Microsoft.AspNetCore.Http.Extensions;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Net.Http.Headers;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Browsers cannot set headers on a WebSocket or an EventSource, so SignalR sends the console's bearer token as the
/// <c>access_token</c> query value. On the agent hub this moves it into the <c>Authorization</c> header and removes it from
/// the query, so nothing after this point (authentication, SignalR, any request or error log) sees it in a URL.
/// </summary>
public sealed class AccessTokenQueryMiddleware(RequestDelegate next)
{
    public const string QueryKey = "access_token";

    public Task InvokeAsync(HttpContext context)
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/hubs") && request.Query.TryGetValue(QueryKey, out var token))
        {
            if (token.Count == 1 && !string.IsNullOrEmpty(token[0]) && request.Path.StartsWithSegments("/hubs/agent")
                && string.IsNullOrEmpty(request.Headers.Authorization))
            {
                request.Headers[HeaderNames.Authorization] = "Bearer " + token[0];
            }
            var rest = QueryHelpers.ParseQuery(request.QueryString.Value).Where(q => q.Key != QueryKey);
            var query = new QueryBuilder();
            foreach (var (key, values) in rest)
                foreach (var value in values)
                    query.Add(key, value ?? "");
            request.QueryString = query.ToQueryString();
        }
        return next(context);
    }
}
