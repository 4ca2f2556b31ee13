using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Auth;

/// <summary>Looks up agents' accounts and routing profiles.</summary>
public sealed class AgentDirectory(IOptionsMonitor<AgentDirectoryOptions> options)
{
    /// <summary>The agent's account, or null when there is none or it is disabled.</summary>
    public AgentOptions? Find(string agentId) =>
        options.CurrentValue.Agents.TryGetValue(agentId, out var agent) && !agent.Disabled ? agent : null;

    /// <summary>Called when the agents' configuration changes (an agent disabled or removed).</summary>
    public IDisposable? OnChange(Action listener) => options.OnChange(_ => listener());

    /// <summary>Every configured agent id with its display name.</summary>
    public IEnumerable<(string AgentId, string DisplayName)> All() =>
        options.CurrentValue.Agents.Where(a => !a.Value.Disabled).Select(a => (a.Key, a.Value.DisplayName ?? a.Key));

    public AgentProfile? Profile(string agentId) => Find(agentId) is { } agent
        ? new AgentProfile(agentId, agent.DisplayName ?? agentId, agent.Capacity, agent.Queues, agent.Skills)
        : null;
}
