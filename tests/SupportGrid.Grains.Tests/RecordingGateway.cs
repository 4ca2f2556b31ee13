using System.Threading.Channels;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>
/// Stands in for a gateway process (the grains' push target, not the thing under test): records every push so a test can
/// wait for the one it expects.
/// </summary>
public sealed class RecordingGateway : IGatewayObserver
{
    public sealed record Push(string Kind, string? AgentId, Guid SessionId, object? Payload);

    private readonly Channel<Push> _pushes = System.Threading.Channels.Channel.CreateUnbounded<Push>();
    private readonly List<Push> _seen = [];

    public Task OfferAsync(string agentId, ChatOffer offer) => Record(new("offer", agentId, offer.SessionId, offer));

    public Task OfferWithdrawnAsync(string agentId, Guid sessionId, string reason) => Record(new("withdrawn", agentId, sessionId, reason));

    public Task InvitationAsync(string agentId, ChatInvitation invitation) => Record(new("invitation", agentId, invitation.ChannelId, invitation));

    public Task InvitationClosedAsync(string agentId, Guid channelId, string reason) => Record(new("invitation-closed", agentId, channelId, reason));

    public Task AgentStatusAsync(string agentId, string status) => Record(new("status", agentId, Guid.Empty, status));

    public Task ChatLeftAsync(string agentId, Guid channelId, string reason) => Record(new("chat-left", agentId, channelId, reason));

    public Task QueuePositionAsync(Guid sessionId, int position, int estimatedWaitSeconds) => Record(new("position", null, sessionId, position));

    /// <summary>Records the batch (kind "positions", payload the updates), then each update as a "position" push.</summary>
    public Task QueuePositionsAsync(IReadOnlyList<QueuePositionUpdate> updates)
    {
        Record(new("positions", null, Guid.Empty, updates));
        foreach (var update in updates)
            Record(new("position", null, update.SessionId, update.Position));
        return Task.CompletedTask;
    }

    public Task AgentJoinedAsync(Guid sessionId, Guid channelId, string agentName) => Record(new("joined", null, sessionId, channelId));

    public Task SessionEndedAsync(Guid sessionId, string reason, bool offerMessage) =>
        Record(new("ended", null, sessionId, offerMessage ? "offer-message: " + reason : reason));

    private Task Record(Push push)
    {
        _pushes.Writer.TryWrite(push);
        return Task.CompletedTask;
    }

    /// <summary>Waits for the first push (seen before or arriving later) that matches; fails after a generous deadline.</summary>
    public async Task<Push> WaitForAsync(Func<Push, bool> match, TimeSpan? within = null)
    {
        using var timeout = new CancellationTokenSource(within ?? TimeSpan.FromSeconds(15));
        lock (_seen)
        {
            if (_seen.FirstOrDefault(match) is { } earlier)
                return earlier;
        }
        try
        {
            while (true)
            {
                var push = await _pushes.Reader.ReadAsync(timeout.Token);
                lock (_seen)
                    _seen.Add(push);
                if (match(push))
                    return push;
            }
        }
        catch (OperationCanceledException)
        {
            lock (_seen)
                throw new TimeoutException("No matching push. Seen: " + string.Join(", ", _seen.Select(p => $"{p.Kind}:{p.AgentId}:{p.SessionId}:{p.Payload}")));
        }
    }

    /// <summary>Every push received so far (drains what has arrived without waiting).</summary>
    public IReadOnlyList<Push> Seen()
    {
        lock (_seen)
        {
            while (_pushes.Reader.TryRead(out var push))
                _seen.Add(push);
            return _seen.ToList();
        }
    }
}
