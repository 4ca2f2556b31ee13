using Microsoft.AspNetCore.SignalR;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Fanout;

/// <summary>Receives the grains' direct pushes for this gateway and writes them to the right connections.</summary>
public sealed class GatewayObserver(
    IHubContext<CustomerHub, ICustomerClient> customers,
    IHubContext<AgentHub, IAgentClient> agents,
    ConnectionRegistry registry,
    ChannelFanout fanout,
    IGrainFactory grains) : IGatewayObserver
{
    public Task OfferAsync(string agentId, ChatOffer offer) =>
        agents.Clients.Group(HubGroups.Agent(agentId)).Offer(offer);

    public Task InvitationAsync(string agentId, ChatInvitation invitation) =>
        agents.Clients.Group(HubGroups.Agent(agentId)).Invitation(invitation);

    public Task InvitationClosedAsync(string agentId, Guid channelId, string reason) =>
        agents.Clients.Group(HubGroups.Agent(agentId)).InvitationClosed(channelId, reason);

    public Task OfferWithdrawnAsync(string agentId, Guid sessionId, string reason) =>
        agents.Clients.Group(HubGroups.Agent(agentId)).OfferWithdrawn(sessionId, reason);

    public Task AgentStatusAsync(string agentId, string status) =>
        agents.Clients.Group(HubGroups.Agent(agentId)).Status(status);

    public async Task ChatLeftAsync(string agentId, Guid channelId, string reason)
    {
        foreach (var connectionId in registry.AgentConnections(agentId))
            await fanout.LeaveAsync(channelId, connectionId);
        await agents.Clients.Group(HubGroups.Agent(agentId)).ChatLeft(channelId, reason);
    }

    public Task QueuePositionAsync(Guid sessionId, int position, int estimatedWaitSeconds) =>
        customers.Clients.Group(HubGroups.Session(sessionId)).QueuePosition(position, estimatedWaitSeconds);

    public async Task QueuePositionsAsync(IReadOnlyList<QueuePositionUpdate> updates)
    {
        foreach (var update in updates)
            await customers.Clients.Group(HubGroups.Session(update.SessionId)).QueuePosition(update.Position, update.EstimatedWaitSeconds);
    }

    public async Task AgentJoinedAsync(Guid sessionId, Guid channelId, string agentName)
    {
        var connections = registry.SessionConnections(sessionId);
        if (connections.Count == 0)
            return;
        // Subscribe first, then read the transcript: an event published in between arrives twice, never zero times; what
        // is published after the read and before this gateway's new subscription receives comes by a catch-up read.
        var joins = new List<(string ConnectionId, Task? Attached)>();
        foreach (var (connectionId, info) in connections)
            joins.Add((connectionId, await fanout.JoinAsync(channelId, connectionId, ChannelFanout.Listener.Customer(sessionId, info.GatewayOrigin))));
        var ids = connections.Select(c => c.ConnectionId).ToList();
        await customers.Clients.EachAsync(ids, c => c.AgentJoined(agentName));
        var member = new MemberRef(Roles.Customer, sessionId.ToString(), "");
        var channel = grains.GetGrain<IChannelGrain>(channelId);
        var events = await channel.GetEventsAsync(member, 0);
        foreach (var evt in events)
            await customers.Clients.EachAsync(ids, c => c.Message(evt));
        var last = events.Count > 0 ? events[^1].Seq : 0;
        foreach (var (connectionId, attached) in joins)
            fanout.CatchUp(attached, channelId, connectionId, isAgent: false, last, after => channel.GetEventsAsync(member, after));
    }

    public Task SessionEndedAsync(Guid sessionId, string reason, bool offerMessage) =>
        customers.Clients.Group(HubGroups.Session(sessionId)).ChatEnded(reason, offerMessage);
}

/// <summary>SignalR group names.</summary>
public static class HubGroups
{
    public static string Agent(string agentId) => "agent:" + agentId;

    public static string Session(Guid sessionId) => "session:" + sessionId.ToString("N");

    /// <summary>This gateway's customer connections in a channel (kept by <see cref="ChannelFanout"/>).</summary>
    public static string ChannelCustomers(Guid channelId) => "channel-customers:" + channelId.ToString("N");

    /// <summary>This gateway's agent connections in a channel (kept by <see cref="ChannelFanout"/>).</summary>
    public static string ChannelAgents(Guid channelId) => "channel-agents:" + channelId.ToString("N");
}

/// <summary>This gateway's observer reference, created once and handed to grains so they can push to it.</summary>
public sealed class GatewayEndpoint(IGrainFactory grains, GatewayObserver observer)
{
    private readonly Lazy<IGatewayObserver> _reference = new(() => grains.CreateObjectReference<IGatewayObserver>(observer));

    public IGatewayObserver Reference => _reference.Value;
}
