using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Auth;

/// <summary>Looks up agents' accounts and routing profiles.</summary>
public sealed class AgentDirectory(IOptionsMonitor<AgentDirectoryOptions> options)
{
    public AgentOptions? Find(string agentId) =>
        options.CurrentValue.Agents.TryGetValue(agentId, out var agent) ? agent : null;

    public AgentProfile? Profile(string agentId) => Find(agentId) is { } agent
        ? new AgentProfile(agentId, agent.DisplayName ?? agentId, agent.Capacity, agent.Queues, agent.Skills)
        : null;
}
