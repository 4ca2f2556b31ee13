namespace SupportGrid.Gateway.Fanout;

/// <summary>
/// Which of this gateway's connections belong to which customer session and which agent. Local to the process:
/// grains address a gateway, the gateway finds the connections.
/// </summary>
public sealed class ConnectionRegistry
{
    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, HashSet<string>> _sessions = [];
    private readonly Dictionary<string, CustomerConnection> _customers = [];
    private readonly Dictionary<string, HashSet<string>> _agents = [];
    private readonly Dictionary<string, string> _agentOfConnection = [];

    /// <summary>A customer connection: its session and the gateway origin it reached us on (for the demo site's navigation rule).</summary>
    public sealed record CustomerConnection(Guid SessionId, string GatewayOrigin);

    public void BindCustomer(string connectionId, Guid sessionId, string gatewayOrigin)
    {
        lock (_lock)
        {
            UnbindCustomerLocked(connectionId);
            _customers[connectionId] = new CustomerConnection(sessionId, gatewayOrigin);
            if (!_sessions.TryGetValue(sessionId, out var set))
                _sessions[sessionId] = set = [];
            set.Add(connectionId);
        }
    }

    /// <summary>Forgets a customer connection.</summary>
    public void UnbindCustomer(string connectionId)
    {
        lock (_lock)
            UnbindCustomerLocked(connectionId);
    }

    public CustomerConnection? Customer(string connectionId)
    {
        lock (_lock)
            return _customers.GetValueOrDefault(connectionId);
    }

    public IReadOnlyList<(string ConnectionId, CustomerConnection Info)> SessionConnections(Guid sessionId)
    {
        lock (_lock)
        {
            return _sessions.TryGetValue(sessionId, out var set)
                ? set.Select(c => (c, _customers[c])).ToList()
                : [];
        }
    }

    public void BindAgent(string connectionId, string agentId)
    {
        lock (_lock)
        {
            _agentOfConnection[connectionId] = agentId;
            if (!_agents.TryGetValue(agentId, out var set))
                _agents[agentId] = set = [];
            set.Add(connectionId);
        }
    }

    public void UnbindAgent(string connectionId)
    {
        lock (_lock)
        {
            if (_agentOfConnection.Remove(connectionId, out var agentId) && _agents.TryGetValue(agentId, out var set))
            {
                set.Remove(connectionId);
                if (set.Count == 0)
                    _agents.Remove(agentId);
            }
        }
    }

    public IReadOnlyList<string> AgentConnections(string agentId)
    {
        lock (_lock)
            return _agents.TryGetValue(agentId, out var set) ? set.ToList() : [];
    }

    private void UnbindCustomerLocked(string connectionId)
    {
        if (_customers.Remove(connectionId, out var info) && _sessions.TryGetValue(info.SessionId, out var set))
        {
            set.Remove(connectionId);
            if (set.Count == 0)
                _sessions.Remove(info.SessionId);
        }
    }
}
