namespace SupportGrid.Gateway.Hosting;

/// <summary>How the gateway reaches the cluster and whom it trusts. Bound from <c>SupportGrid</c> and <c>SupportGrid:Gateway</c>.</summary>
public sealed class GatewayOptions
{
    public const string Section = "SupportGrid:Gateway";

    /// <summary>Addresses of reverse proxies whose X-Forwarded-For is believed. Empty: the socket's peer address is the customer's IP.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of reverse proxies whose X-Forwarded-For is believed, in CIDR form (<c>10.0.0.0/8</c>): for
    /// proxies without fixed addresses, such as an ingress controller's pods (the cluster's pod network).</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>Where the cluster runs.</summary>
public static class GatewayModes
{
    /// <summary>The gateway co-hosts one silo in its process: one command runs the whole product.</summary>
    public const string Standalone = "standalone";

    /// <summary>The gateway is an Orleans client of separate silo processes.</summary>
    public const string Cluster = "cluster";
}
