using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using SupportGrid.Gateway.Auth;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Closes the console connections of an agent who is disabled or removed from the configuration, as soon as the
/// configuration reloads (a console that only listens makes no call that could be refused). Expired tokens are closed by
/// SignalR itself (<c>CloseOnAuthenticationExpiration</c> on the agent hub).
/// </summary>
public sealed partial class AgentConnectionRevoker : IDisposable
{
    private readonly AgentDirectory _agents;
    private readonly ILogger<AgentConnectionRevoker> _logger;
    private readonly ConcurrentDictionary<string, (string AgentId, HubCallerContext Context)> _open = new();
    private readonly IDisposable? _subscription;

    public AgentConnectionRevoker(AgentDirectory agents, ILogger<AgentConnectionRevoker> logger)
    {
        _agents = agents;
        _logger = logger;
        _subscription = agents.OnChange(CloseRevoked);
    }

    public void Track(HubCallerContext context, string agentId)
    {
        _open[context.ConnectionId] = (agentId, context);
        if (_agents.Find(agentId) is null) // disabled between the connect and now
            CloseRevoked();
    }

    public void Forget(string connectionId) => _open.TryRemove(connectionId, out _);

    private void CloseRevoked()
    {
        foreach (var (connectionId, (agentId, context)) in _open)
        {
            if (_agents.Find(agentId) is not null)
                continue;
            LogRevoked(_logger, agentId, connectionId);
            context.Abort();
        }
    }

    public void Dispose() => _subscription?.Dispose();

    [LoggerMessage(EventId = 8011, Level = LogLevel.Warning, Message = "Closed console connection {ConnectionId} of agent {AgentId}: the agent is disabled or removed")]
    private static partial void LogRevoked(ILogger logger, string agentId, string connectionId);
}
