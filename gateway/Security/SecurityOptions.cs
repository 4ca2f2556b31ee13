using System.ComponentModel.DataAnnotations;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Limits that keep one abusive client from hurting anyone else. Bound from <c>SupportGrid:Security</c>; the defaults are
/// safe for production and generous enough for many shoppers behind one address (an office NAT, a mobile carrier).
/// </summary>
public sealed class SecurityOptions
{
    public const string Section = "SupportGrid:Security";

    /// <summary>Largest hub message the customer hub accepts (bytes). A 4,000-character message fits with room to spare.</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public long CustomerHubMaxMessageBytes { get; set; } = 32 * 1024;

    /// <summary>Largest hub message the agent hub accepts (bytes).</summary>
    [Range(1024, 16 * 1024 * 1024)]
    public long AgentHubMaxMessageBytes { get; set; } = 64 * 1024;

    /// <summary>Hub calls one connection may make: a token bucket of this size, refilled at <see cref="CallsPerSecondPerConnection"/>.</summary>
    [Range(1, 100_000)]
    public int CallBurstPerConnection { get; set; } = 40;

    [Range(1, 100_000)]
    public int CallsPerSecondPerConnection { get; set; } = 20;

    /// <summary>Hub calls all connections of one address may make together (burst and refill per second).</summary>
    [Range(1, 1_000_000)]
    public int CallBurstPerAddress { get; set; } = 2000;

    [Range(1, 1_000_000)]
    public int CallsPerSecondPerAddress { get; set; } = 1000;

    /// <summary>Refused calls in a row after which the connection is closed.</summary>
    [Range(1, 10_000)]
    public int RefusalsBeforeDisconnect { get; set; } = 20;

    /// <summary>After a connection is closed for <see cref="RefusalsBeforeDisconnect"/> refused calls, its address may not
    /// open hub connections for this long (refused with 429 before the upgrade); doubled for each repeat.</summary>
    public TimeSpan AbuseCooldown { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>The longest abuse cool-down; strikes are forgotten this long after a cool-down ends.</summary>
    public TimeSpan AbuseCooldownMax { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>New chats (<c>StartChat</c>, <c>JoinChat</c>, <c>LeaveMessage</c>) one address may open per minute.</summary>
    [Range(1, 100_000)]
    public int ChatsPerAddressPerMinute { get; set; } = 60;

    /// <summary>Open hub connections one address may hold at once (both hubs).</summary>
    [Range(1, 1_000_000)]
    public int ConnectionsPerAddress { get; set; } = 200;

    /// <summary>
    /// Open TCP connections one peer may hold to this gateway (every endpoint, any path). Past it, and while the peer is in
    /// its abuse cool-down, a new connection is closed before HTTP (<see cref="PeerConnectionGate"/>). Never applied to a
    /// known proxy (<c>SupportGrid:Gateway:KnownProxies</c>), whose clients are limited by address instead. Well above
    /// <see cref="ConnectionsPerAddress"/>: each browser behind a shared address also keeps page and negotiation requests'
    /// connections open (up to 6 per host). 0: no limit.
    /// </summary>
    [Range(0, 1_000_000)]
    public int TcpConnectionsPerPeer { get; set; } = 1000;

    /// <summary>Kestrel: largest request body (bytes); hub traffic over WebSockets is limited by the hub sizes instead.</summary>
    [Range(1024, 1024L * 1024 * 1024)]
    public long MaxRequestBodyBytes { get; set; } = 1024 * 1024;

    /// <summary>Kestrel: total size of a request's headers (bytes).</summary>
    [Range(1024, 1024 * 1024)]
    public int MaxRequestHeadersBytes { get; set; } = 32 * 1024;

    /// <summary>Kestrel: time a client has to send the request headers.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:05:00")]
    public TimeSpan RequestHeadersTimeout { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>Kestrel: open TCP connections in all (null: no limit). A load balancer in front usually caps this instead.</summary>
    public long? MaxConcurrentConnections { get; set; }

    /// <summary>Failed agent sign-ins for one username before each further try must wait (doubling from 1 s).</summary>
    [Range(1, 1000)]
    public int SignInFailuresBeforeDelay { get; set; } = 3;

    /// <summary>Failed agent sign-ins for one username before it is locked for <see cref="SignInLockout"/>.</summary>
    [Range(1, 1000)]
    public int SignInFailuresBeforeLock { get; set; } = 10;

    /// <summary>Failed sign-ins from one address (any usernames) before that address is locked for <see cref="SignInLockout"/>.</summary>
    [Range(1, 100_000)]
    public int SignInFailuresPerAddressBeforeLock { get; set; } = 50;

    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInLockout { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>How long failures are remembered after the last one.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan SignInFailureWindow { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// Refuse to start with demo settings (no signing key, the demo agents, an empty or demo site secret). Null: enforced
    /// when the host environment is Production (<c>ASPNETCORE_ENVIRONMENT</c>, which is Production when unset).
    /// </summary>
    public bool? EnforceProductionSettings { get; set; }

    /// <summary>HSTS max-age sent in production (over HTTPS only).</summary>
    [Range(typeof(TimeSpan), "00:00:00", "730.00:00:00")]
    public TimeSpan HstsMaxAge { get; set; } = TimeSpan.FromDays(365);
}

/// <summary>Error codes of the refusals this folder makes, in the <c>"{code}: {message}"</c> form of every hub error.</summary>
public static class SecurityErrorCodes
{
    public const string RateLimited = "rate_limited";
    public const string TooManyConnections = "too_many_connections";
    public const string ForbiddenOrigin = "forbidden_origin";
    public const string SignInLocked = "sign_in_locked";
}
