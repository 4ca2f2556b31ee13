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
    /// (or of <c>{customerId}|{tier}</c> when the site also vouches for a tier). Compared in constant time.
    /// </summary>
    public bool VerifyCustomerId(string site, string? customerId, string? tier, string? signature)
    {
        if (string.IsNullOrEmpty(customerId) || string.IsNullOrEmpty(signature) || Find(site)?.IdentitySecret is not { Length: > 0 } secret)
            return false;
        var signed = string.IsNullOrEmpty(tier) ? customerId : customerId + "|" + tier;
        var expected = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(signed));
        byte[] given;
        try
        {
            given = Convert.FromHexString(signature);
        }
        catch (FormatException)
        {
            return false;
        }
        return CryptographicOperations.FixedTimeEquals(expected, given);
    }

    private static string Normalize(string origin) => origin.TrimEnd('/').ToLowerInvariant();
}
