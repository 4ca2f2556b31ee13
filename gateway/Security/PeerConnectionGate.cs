using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Hosting;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Kestrel connection middleware on every endpoint the gateway listens on: closes a new TCP connection at once, before
/// TLS and before a byte of HTTP is read, when its peer already holds <see cref="SecurityOptions.TcpConnectionsPerPeer"/>
/// open connections to this gateway or is in its abuse cool-down (<see cref="AddressPenalties"/>). A refused attempt then
/// costs the gateway an accept and a close, not an HTTP request and a 429 (<see cref="ConnectionGateMiddleware"/>, which
/// still answers clients that come through a proxy).
/// </summary>
/// <remarks>
/// Only when the TCP peer is the client itself: a peer the forwarded-headers middleware believes (a known proxy or
/// network, <c>SupportGrid:Gateway:KnownProxies</c>) is a load balancer carrying many clients, and is never refused here;
/// its clients are limited by their forwarded address as before. Peers are counted as the per-address limits count
/// addresses (<see cref="HubAbuseFilter.Canonical"/>: an IPv6 peer by its /64). HTTP/3 (QUIC) connections do not pass
/// here; the gateway does not listen for them.
/// </remarks>
public sealed partial class PeerConnectionGate(IOptions<SecurityOptions> options, IOptions<ForwardedHeadersOptions> forwarded,
    AddressPenalties penalties, IMeterFactory meters, ILogger<PeerConnectionGate> logger)
{
    /// <summary>The counter's name in the <see cref="GatewayTelemetry.MeterName"/> meter.</summary>
    public const string RefusedCounter = "supportgrid.gateway.tcp_connections_refused";

    private readonly Counter<long> _refused = meters.Create(GatewayTelemetry.MeterName).CreateCounter<long>(RefusedCounter, unit: "{connection}",
        description: "TCP connections closed before HTTP because their peer was at its connection limit or cooling down (tag reason).");
    private readonly ConcurrentDictionary<string, int> _open = new();
    private readonly LogSampler _sampler = new(TimeSpan.FromSeconds(10));

    /// <summary>Open TCP connections of <paramref name="address"/> (a canonical address) on this gateway, known proxies not counted.</summary>
    public int ConnectionsOf(string address) => _open.TryGetValue(address, out var n) ? n : 0;

    /// <summary>The middleware, for <c>ListenOptions.Use</c>.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => connection => OnConnectionAsync(connection, next);

    private async Task OnConnectionAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (connection.RemoteEndPoint is not IPEndPoint { Address: var ip } || IsKnownProxy(ip))
        {
            await next(connection);
            return;
        }
        var address = HubAbuseFilter.Canonical(ip);
        var limit = options.Value.TcpConnectionsPerPeer;
        var counted = limit > 0;
        var open = counted ? _open.AddOrUpdate(address, 1, (_, n) => n + 1) : 0;
        try
        {
            string? reason = null;
            if (penalties.IsCoolingDown(address, out _))
                reason = RefusalReasons.CoolingDown;
            else if (counted && open > limit)
                reason = RefusalReasons.PeerLimit;
            if (reason is not null)
            {
                _refused.Add(1, new KeyValuePair<string, object?>("reason", reason));
                if (_sampler.ShouldLog(address + "\n" + reason, out var suppressed))
                    LogRefused(logger, address, reason, limit, suppressed);
                // Not calling next: Kestrel closes the socket without reading a byte (a reset if the client already sent some).
                return;
            }
            await next(connection);
        }
        finally
        {
            if (counted)
                Release(address);
        }
    }

    /// <summary>As the forwarded-headers middleware decides whom to believe (an IPv4-mapped peer also as IPv4).</summary>
    private bool IsKnownProxy(IPAddress ip)
    {
        var o = forwarded.Value;
        if ((o.ForwardedHeaders & ForwardedHeaders.XForwardedFor) == 0)
            return false;
        if (ip.IsIPv4MappedToIPv6 && IsListed(o, ip.MapToIPv4()))
            return true;
        return IsListed(o, ip);

        static bool IsListed(ForwardedHeadersOptions o, IPAddress ip)
        {
            if (o.KnownProxies.Contains(ip))
                return true;
            foreach (var network in o.KnownIPNetworks)
            {
                if (network.Contains(ip))
                    return true;
            }
            return false;
        }
    }

    private void Release(string address)
    {
        while (true)
        {
            var n = _open.GetValueOrDefault(address);
            if (n <= 1 ? _open.TryRemove(KeyValuePair.Create(address, n)) : _open.TryUpdate(address, n - 1, n))
                return;
        }
    }

    /// <summary>The <c>reason</c> of a refusal, in the log line and the metric's tag.</summary>
    public static class RefusalReasons
    {
        public const string PeerLimit = "peer_limit";
        public const string CoolingDown = "cooling_down";
    }

    [LoggerMessage(EventId = 8007, Level = LogLevel.Warning, Message = "Closed TCP connections from {Address} before HTTP ({Reason}; at most {Limit} open per peer); {Suppressed} more since the last such line")]
    private static partial void LogRefused(ILogger logger, string address, string reason, int limit, int suppressed);
}
