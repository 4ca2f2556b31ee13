using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Sites;

/// <summary>Answers questions about configured sites: does a queue exist, may a navigation be followed, is a customer id genuine.</summary>
public sealed class SiteDirectory(IOptionsMonitor<SitesOptions> options)
{
    public SiteOptions? Find(string? site) =>
        site is not null && options.CurrentValue.Sites.TryGetValue(site, out var found) ? found : null;

    /// <summary>How long a join code lets customers in.</summary>
    public TimeSpan JoinCodeLifetime => options.CurrentValue.JoinCodeLifetime;

    /// <summary>Every queue of every site, as <c>site/queue</c>.</summary>
    public IReadOnlyList<string> AllQueues() =>
        options.CurrentValue.Sites.SelectMany(site => site.Value.Queues.Select(queue => QueueKey.For(site.Key, queue))).ToList();

    /// <summary>True when <paramref name="queueKey"/> (<c>site/queue</c>) names a configured queue.</summary>
    public bool QueueExists(string? queueKey)
    {
        if (string.IsNullOrEmpty(queueKey))
            return false;
        var (site, queue) = QueueKey.Parse(queueKey);
        return Find(site)?.Queues.Contains(queue) == true;
    }

    /// <summary>True when any site names <paramref name="origin"/> (the CORS policy of the widget and customer hub).</summary>
    public bool IsSiteOrigin(string origin)
    {
        var normalized = Normalize(origin);
        return options.CurrentValue.Sites.Values.Any(s => s.Origins.Any(o => Normalize(o) == normalized));
    }

    /// <summary>
    /// True when a page at <paramref name="origin"/> may use the customer surfaces: it is one of some site's origins, or it
    /// is the gateway's own (<paramref name="gatewayOrigin"/>) and some site sets <c>AllowGatewayOrigin</c> (the demo shop).
    /// </summary>
    public bool IsAnySiteOrigin(string origin, string gatewayOrigin) =>
        options.CurrentValue.Sites.Keys.Any(site => AcceptsOrigin(site, origin, gatewayOrigin));

    /// <summary>True when site <paramref name="site"/> accepts requests from a page at <paramref name="origin"/>.</summary>
    public bool AcceptsOrigin(string site, string origin, string gatewayOrigin)
    {
        if (Find(site) is not { } config)
            return false;
        var normalized = Normalize(origin);
        return (config.AllowGatewayOrigin && normalized == Normalize(gatewayOrigin)) || config.Origins.Any(o => Normalize(o) == normalized);
    }

    /// <summary>True when the widget should move the page to <paramref name="url"/> by itself.</summary>
    public bool IsFollowable(string site, Uri url, string? gatewayOrigin)
    {
        if (Find(site) is not { } config)
            return false;
        var target = url.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
        if (config.AllowGatewayOrigin && gatewayOrigin is not null && string.Equals(target, Normalize(gatewayOrigin), StringComparison.Ordinal))
            return true;
        return config.Origins.Any(o => string.Equals(Normalize(o), target, StringComparison.Ordinal));
    }

    /// <summary>
    /// True when <paramref name="signature"/> is the hex HMAC-SHA256, under the site's secret, of <paramref name="customerId"/>
    /// (or of <c>{customerId}|{tier}</c> when the site also vouches for a tier), under the site's <c>IdentitySecret</c> or,
    /// while the site rotates secrets, its <c>PreviousIdentitySecret</c>. Hex only (64 digits); compared in constant time.
    /// </summary>
    public bool VerifyCustomerId(string site, string? customerId, string? tier, string? signature)
    {
        if (string.IsNullOrEmpty(customerId) || string.IsNullOrEmpty(signature) || signature.Length != 64 || Find(site) is not { } config)
            return false;
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }
        var signed = Encoding.UTF8.GetBytes(string.IsNullOrEmpty(tier) ? customerId : customerId + "|" + tier);
        // Both secrets are always computed, so the answer time does not say which one matched.
        var current = Matches(config.IdentitySecret, signed, given);
        var previous = Matches(config.PreviousIdentitySecret, signed, given);
        return current | previous;
    }

    private static bool Matches(string? secret, byte[] signed, byte[] given) =>
        !string.IsNullOrEmpty(secret) && CryptographicOperations.FixedTimeEquals(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), signed), given);

    private static string Normalize(string origin) => origin.TrimEnd('/').ToLowerInvariant();
}
