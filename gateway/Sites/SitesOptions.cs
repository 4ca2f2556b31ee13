using System.ComponentModel.DataAnnotations;

namespace SupportGrid.Gateway.Sites;

/// <summary>The retail sites this deployment serves, by site id. Bound from <c>SupportGrid:Sites:{siteId}</c>.</summary>
public sealed class SitesOptions
{
    public const string Section = "SupportGrid";

    public Dictionary<string, SiteOptions> Sites { get; set; } = [];

    /// <summary>How long an agent's join code (<c>CreateJoinCode</c>) lets customers join the chat. <c>SupportGrid:JoinCodeLifetime</c>.</summary>
    public TimeSpan JoinCodeLifetime { get; set; } = TimeSpan.FromMinutes(30);
}

/// <summary>One site: where its pages live, which queues it has, and the secret it signs customer ids with.</summary>
public sealed class SiteOptions
{
    /// <summary>Origins of the site's pages, e.g. <c>https://shop.example.com</c>. Navigation to these is followed automatically.</summary>
    public List<string> Origins { get; set; } = [];

    /// <summary>Also treat the gateway's own origin as the site's (the bundled demo shop is served by the gateway).</summary>
    public bool AllowGatewayOrigin { get; set; }

    /// <summary>Queue names of this site.</summary>
    [MinLength(1)]
    public List<string> Queues { get; set; } = [];

    /// <summary>HMAC-SHA256 key the site signs customer ids with; empty means no id is ever verified.</summary>
    public string? IdentitySecret { get; set; }

    /// <summary>The secret being retired while a site rotates: signatures under either are accepted. Remove it when done.</summary>
    public string? PreviousIdentitySecret { get; set; }
}
