using System.ComponentModel.DataAnnotations;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// How a cluster gateway shares the per-address limits (<see cref="IAddressLimits"/>) and the sign-in throttle
/// (<see cref="Auth.ISignInThrottle"/>) with the other gateways, through Redis (<see cref="RedisAddressLimits"/>,
/// <see cref="Auth.RedisSignInThrottle"/>). Bound from <c>SupportGrid:Security:Shared</c>; applies only with
/// <c>SupportGrid:Mode=cluster</c> and a Redis (a standalone gateway keeps its own counts).
/// </summary>
public sealed class SharedLimitsOptions
{
    public const string Section = "SupportGrid:Security:Shared";

    /// <summary>False: each gateway counts alone, as a standalone one does.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>StackExchange.Redis connection string of the counts; empty: the cluster's (<c>SupportGrid:Cluster:Redis</c>).</summary>
    public string? Redis { get; set; }

    /// <summary>Longest wait for Redis on a hub connect, a new chat or a sign-in; past it (or on any Redis failure) this gateway
    /// decides alone, with its own counts, rather than refuse or hold up the shopper.</summary>
    [Range(typeof(TimeSpan), "00:00:00.050", "00:00:30")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>After a Redis failure, how long this gateway decides alone before it asks Redis again.</summary>
    [Range(typeof(TimeSpan), "00:00:00", "00:10:00")]
    public TimeSpan RetryAfter { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>A gateway's connection counts in Redis are ignored, and removed, this long after it last wrote them; it
    /// rewrites them every third of it. So the counts of a gateway that died are forgotten after at most this long
    /// (until then its clients reconnecting elsewhere count twice).</summary>
    [Range(typeof(TimeSpan), "00:00:03", "00:10:00")]
    public TimeSpan ConnectionCountLifetime { get; set; } = TimeSpan.FromSeconds(15);
}
