using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Auth;

/// <summary>Looks up agents' accounts and routing profiles.</summary>
public sealed class AgentDirectory(IOptionsMonitor<AgentDirectoryOptions> options)
{
    public AgentOptions? Find(string agentId) =>
        options.CurrentValue.Agents.TryGetValue(agentId, out var agent) ? agent : null;

    /// <summary>Every configured agent id with its display name.</summary>
    public IEnumerable<(string AgentId, string DisplayName)> All() =>
        options.CurrentValue.Agents.Select(a => (a.Key, a.Value.DisplayName ?? a.Key));

    public AgentProfile? Profile(string agentId) => Find(agentId) is { } agent
        ? new AgentProfile(agentId, agent.DisplayName ?? agentId, agent.Capacity, agent.Queues, agent.Skills)
        : null;
}
