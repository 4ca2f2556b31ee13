using System.Collections.Concurrent;

namespace SupportGrid.Bench.RawSignalR;

/// <summary>A channel: its id and its sequence counter. Members are the SignalR groups <c>c:{id}</c> and <c>a:{id}</c>.</summary>
public sealed class RawChannel(Guid id)
{
    private long _seq;

    public Guid Id { get; } = id;

    public long NextSeq() => Interlocked.Increment(ref _seq);
}

/// <summary>Everything the raw server remembers, in memory: waiting sessions, channels, available agents.</summary>
public sealed class RawState
{
    private readonly ConcurrentDictionary<Guid, string> _waiting = new();
    private readonly ConcurrentDictionary<Guid, RawChannel> _channelBySession = new();
    private readonly ConcurrentDictionary<Guid, RawChannel> _channels = new();
    private readonly List<string> _available = [];
    private int _next;

    public static string CustomerGroup(Guid channelId) => $"c:{channelId:N}";

    public static string AgentGroup(Guid channelId) => $"a:{channelId:N}";

    public void SetAvailable(string agentConnectionId, bool available)
    {
        lock (_available)
        {
            _available.Remove(agentConnectionId);
            if (available)
                _available.Add(agentConnectionId);
        }
    }

    /// <summary>The next available agent, round robin; null when none is.</summary>
    public string? NextAgent()
    {
        lock (_available)
            return _available.Count == 0 ? null : _available[_next++ % _available.Count];
    }

    public void Wait(Guid sessionId, string customerConnectionId) => _waiting[sessionId] = customerConnectionId;

    /// <summary>Takes a waiting session and opens its channel; null when the session is not waiting.</summary>
    public (RawChannel Channel, string CustomerConnectionId)? Accept(Guid sessionId)
    {
        if (!_waiting.TryRemove(sessionId, out var customer))
            return null;
        var channel = Channel(Guid.NewGuid());
        _channelBySession[sessionId] = channel;
        return (channel, customer);
    }

    public RawChannel? ChannelOf(Guid sessionId) => _channelBySession.GetValueOrDefault(sessionId);

    public RawChannel Channel(Guid channelId) => _channels.GetOrAdd(channelId, id => new RawChannel(id));

    public void End(Guid sessionId)
    {
        _waiting.TryRemove(sessionId, out _);
        if (_channelBySession.TryRemove(sessionId, out var channel))
            _channels.TryRemove(channel.Id, out _);
    }

    public void EndChannel(Guid channelId) => _channels.TryRemove(channelId, out _);
}
