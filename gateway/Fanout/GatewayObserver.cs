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
        var ids = connections.Select(c => c.ConnectionId).ToList();
        // Subscribe, tell the customer, then read the transcript (ChannelFanout.FollowAsync). AgentJoined goes only once the
        // connections are joined, so what the customer says on it comes back by the relay, not by this read as well (an
        // event published between the join and the read may still arrive twice; the client keeps one by its sequence number).
        var member = new MemberRef(Roles.Customer, sessionId.ToString(), "");
        var channel = grains.GetGrain<IChannelGrain>(channelId);
        await fanout.FollowAsync(channelId, connections.Select(c => (c.ConnectionId, ChannelFanout.Listener.Customer(sessionId, c.Info.GatewayOrigin))),
            0, after => channel.GetEventsAsync(member, after),
            joined: () => customers.Clients.EachAsync(ids, c => c.AgentJoined(agentName)),
            deliver: async events =>
            {
                foreach (var evt in events)
                    await customers.Clients.EachAsync(ids, c => c.Message(evt));
            });
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
