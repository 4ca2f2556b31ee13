using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Sites;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// In production the gateway refuses to start with what ships for the demo: no token signing key and no identity provider
/// (a random key per process, which also breaks several gateways), the demo agents' passwords, or a site without an
/// identity secret (or with the demo one). Runs at start-up through <c>ValidateOnStart</c>.
/// </summary>
public sealed class ProductionSettingsValidation(
    IHostEnvironment environment,
    IOptions<AuthOptions> auth,
    IOptionsMonitor<AgentDirectoryOptions> agents,
    IOptionsMonitor<SitesOptions> sites) : IValidateOptions<SecurityOptions>
{
    /// <summary>The password hashes of the demo accounts in appsettings.json (password "demo").</summary>
    public static readonly IReadOnlySet<string> DemoPasswordHashes = new HashSet<string>(StringComparer.Ordinal)
    {
        "pbkdf2-sha256$100000$D7VFIz19oVOf1ePyahpAoA==$RdzrJDeuZgmrU2JerycMuJhHEKlSIQqUqmpLdkmYrt0=",
        "pbkdf2-sha256$100000$UWHtrw/CN3E94sq4IGZPcA==$vKpnhzyWI5/QZynaPzgAk17C8VtfsQ33e92mf/3Pfls=",
        "pbkdf2-sha256$100000$hH96TrVrK1AxTrVsufAuXA==$hrqjS/0ZfYFRY1DEmZqinuVFBzyuO1R7b8+ZTkm4+l4=",
    };

    public const string DemoIdentitySecret = "demo-identity-secret-change-me";

    public ValidateOptionsResult Validate(string? name, SecurityOptions options)
    {
        if (!(options.EnforceProductionSettings ?? environment.IsProduction()))
            return ValidateOptionsResult.Success;
        var problems = new List<string>();
        if (string.IsNullOrEmpty(auth.Value.SigningKey) && string.IsNullOrEmpty(auth.Value.Authority))
            problems.Add("SupportGrid:Auth:SigningKey is empty (set a base64 key of 32+ bytes shared by all gateways, or SupportGrid:Auth:Authority).");
        foreach (var (agentId, agent) in agents.CurrentValue.Agents)
        {
            if (!agent.Disabled && agent.PasswordHash is { } hash && DemoPasswordHashes.Contains(hash))
                problems.Add($"SupportGrid:Agents:{agentId} has the demo password (remove the demo agents or give them real password hashes).");
        }
        foreach (var (siteId, site) in sites.CurrentValue.Sites)
        {
            if (string.IsNullOrEmpty(site.IdentitySecret))
                problems.Add($"SupportGrid:Sites:{siteId}:IdentitySecret is empty.");
            else if (site.IdentitySecret == DemoIdentitySecret || site.PreviousIdentitySecret == DemoIdentitySecret)
                problems.Add($"SupportGrid:Sites:{siteId} uses the demo identity secret.");
        }
        return problems.Count == 0
            ? ValidateOptionsResult.Success
            : ValidateOptionsResult.Fail(["Production mode refuses demo settings: " + string.Join(" ", problems) +
                " (To run the demo configuration, use ASPNETCORE_ENVIRONMENT=Development.)"]);
    }
}
