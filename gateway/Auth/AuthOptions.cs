using System.ComponentModel.DataAnnotations;

namespace SupportGrid.Gateway.Auth;

/// <summary>How agents sign in. Bound from <c>SupportGrid:Auth</c>.</summary>
public sealed class AuthOptions
{
    public const string Section = "SupportGrid:Auth";

    [Required]
    public string Issuer { get; set; } = "supportgrid";

    [Required]
    public string Audience { get; set; } = "supportgrid-agents";

    /// <summary>
    /// Base64 HMAC-SHA256 key (at least 32 bytes) that signs the tokens <c>POST /api/auth/token</c> issues.
    /// Empty: a random key per process (tokens die with the process), fine for the standalone demo only.
    /// </summary>
    public string? SigningKey { get; set; }

    /// <summary>
    /// An OpenID Connect authority whose tokens are accepted instead (a production identity provider).
    /// When set, the local token endpoint is off and the agent id is the token's <c>sub</c>.
    /// </summary>
    public string? Authority { get; set; }

    [Range(typeof(TimeSpan), "00:01:00", "7.00:00:00")]
    public TimeSpan TokenLifetime { get; set; } = TimeSpan.FromHours(8);
}

/// <summary>Agents known to this deployment, by agent id. Bound from <c>SupportGrid:Agents:{agentId}</c>.</summary>
public sealed class AgentDirectoryOptions
{
    public const string Section = "SupportGrid";

    public Dictionary<string, AgentOptions> Agents { get; set; } = [];
}

/// <summary>One agent's account and routing profile.</summary>
public sealed class AgentOptions
{
    public string? DisplayName { get; set; }

    /// <summary><c>pbkdf2-sha256$iterations$saltBase64$hashBase64</c>; see <see cref="PasswordHash"/>.</summary>
    public string? PasswordHash { get; set; }

    [Range(1, 100)]
    public int Capacity { get; set; } = 3;

    /// <summary>Queues served, as <c>site/queue</c>.</summary>
    public List<string> Queues { get; set; } = [];

    /// <summary>Skill levels (1-10) by skill name, for queues that route by skills.</summary>
    public Dictionary<string, int> Skills { get; set; } = [];

    /// <summary>A disabled agent cannot sign in, and their open console connections are closed when the setting changes.</summary>
    public bool Disabled { get; set; }

    /// <summary>Extra roles: <c>supervisor</c> or <c>admin</c> may read usage records.</summary>
    public List<string> Roles { get; set; } = [];
}
