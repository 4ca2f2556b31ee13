using System.Globalization;
using Microsoft.Extensions.Options;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Refuses a hub connection from an address that may not open one, before any WebSocket upgrade or SignalR handshake:
/// an address in its abuse cool-down (<see cref="AddressPenalties"/>) or already holding
/// <see cref="SecurityOptions.ConnectionsPerAddress"/> connections. The answer is 429 with <c>Retry-After</c> and a
/// ProblemDetails naming the reason. Applies to negotiation and to every transport's connect request of both hubs; the
/// hub filter still counts connections at connect (this is the cheap early check of this gateway's own count, that one
/// the exact one, across all gateways in cluster mode: <see cref="IAddressLimits"/>). A client that
/// is its own TCP peer (no proxy) and is cooling down never gets here: <see cref="PeerConnectionGate"/> closed its
/// connection before HTTP; this answers the clients of a known proxy.
/// </summary>
public sealed partial class ConnectionGateMiddleware(RequestDelegate next, IAddressLimits limits, AddressPenalties penalties,
    IOptions<SecurityOptions> options, ILogger<ConnectionGateMiddleware> logger)
{
    private readonly LogSampler _sampler = new(TimeSpan.FromSeconds(10));

    public async Task InvokeAsync(HttpContext context)
    {
        if (!context.Request.Path.StartsWithSegments("/hubs") || context.Connection.RemoteIpAddress is not { } ip)
        {
            await next(context);
            return;
        }
        var address = HubAbuseFilter.Canonical(ip);
        string? code = null, detail = null;
        var retryAfter = TimeSpan.Zero;
        if (penalties.IsCoolingDown(address, out var left))
        {
            (code, detail, retryAfter) = (SecurityErrorCodes.RateLimited,
                $"This address was disconnected for too many refused calls; it may connect again in {Math.Ceiling(left.TotalSeconds):F0} s.", left);
        }
        else if (limits.ConnectionsOf(address) >= options.Value.ConnectionsPerAddress)
        {
            (code, detail, retryAfter) = (SecurityErrorCodes.TooManyConnections,
                $"This address already has {options.Value.ConnectionsPerAddress} open connections.", TimeSpan.FromSeconds(5));
        }
        if (code is null)
        {
            await next(context);
            return;
        }
        if (_sampler.ShouldLog(address + "\n" + code, out var suppressed))
            LogRefused(logger, address, code, suppressed);
        context.Response.Headers.RetryAfter = Math.Max(1, Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
        await Results.Problem(statusCode: StatusCodes.Status429TooManyRequests, title: "Too many connections", detail: $"{code}: {detail}",
            extensions: new Dictionary<string, object?> { ["code"] = code }).ExecuteAsync(context);
    }

    [LoggerMessage(EventId = 8006, Level = LogLevel.Warning, Message = "Refused hub connections from {Address} before the upgrade ({Code}); {Suppressed} more since the last such line")]
    private static partial void LogRefused(ILogger logger, string address, string code, int suppressed);
}
