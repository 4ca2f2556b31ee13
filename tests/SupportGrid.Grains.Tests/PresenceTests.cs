using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>Agents and customers who go away: consoles closing, offers missed, shoppers closing the page.</summary>
[Collection(ClusterCollection.Name)]
public sealed class PresenceTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "p" + Guid.NewGuid().ToString("N")[..8];
    private string QueueName => QueueKey.For(_site, "sales");
    private IQueueGrain Queue => _client.GetGrain<IQueueGrain>(QueueName);

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<(string AgentId, string ConnectionId)> AvailableAgentAsync(string name)
    {
        var agentId = $"{_site}-{name}";
        var connectionId = "console-" + Guid.NewGuid();
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync(connectionId, new AgentProfile(agentId, name, 3, [QueueName]), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        return (agentId, connectionId);
    }

    private async Task<Guid> WaitingCustomerAsync(string connectionId)
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), connectionId);
        return sessionId;
    }

    [Fact]
    public async Task AnAgentWhoseLastConsoleClosesStopsGettingOffersAtOnceAndIsOfflineAfterTheGrace()
    {
        var (away, awayConnection) = await AvailableAgentAsync("Gone");
        var session = await WaitingCustomerAsync("c1");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == away && p.SessionId == session);

        await _client.GetGrain<IAgentGrain>(away).DisconnectAsync(awayConnection);

        var queue = await Queue.GetSnapshotAsync();
        Assert.Empty(queue.OfferedTo);
        Assert.False(queue.AvailableAgentFreeSlots.ContainsKey(away));
        Assert.Equal(AgentStatus.Available, (await _client.GetGrain<IAgentGrain>(away).GetSnapshotAsync()).Status);
        var (present, _) = await AvailableAgentAsync("Present");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == present && p.SessionId == session);

        await Eventually.HoldsAsync(async () => (await _client.GetGrain<IAgentGrain>(away).GetSnapshotAsync()).Status == AgentStatus.Offline,
            "the disconnected agent goes offline after the grace");
    }

    [Fact]
    public async Task AConsoleReloadWithinTheGraceKeepsTheAgentAvailable()
    {
        var (agentId, connection) = await AvailableAgentAsync("Reloader");
        var agent = _client.GetGrain<IAgentGrain>(agentId);

        await agent.DisconnectAsync(connection);
        var snapshot = await agent.ConnectAsync("console-after-reload", new AgentProfile(agentId, "Reloader", 3, [QueueName]), GatewayRef());
        Assert.Equal(AgentStatus.Available, snapshot.Status);

        var session = await WaitingCustomerAsync("c1");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == session);
        // Well past the grace: the agent is still available, because a console came back.
        await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == agentId && p.SessionId == session);
        Assert.NotEqual(AgentStatus.Offline, (await agent.GetSnapshotAsync()).Status);
    }

    [Fact]
    public async Task AnAgentWhoMissesOffersInARowIsSetAway()
    {
        var (agentId, _) = await AvailableAgentAsync("Absent");
        var first = await WaitingCustomerAsync("c1");
        var second = await WaitingCustomerAsync("c2");

        await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == agentId && p.SessionId == first);
        await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == agentId && p.SessionId == second);

        var status = await _gateway.WaitForAsync(p => p.Kind == "status" && p.AgentId == agentId && (string)p.Payload! == AgentStatus.Away);
        Assert.NotNull(status);
        var queue = await Queue.GetSnapshotAsync();
        Assert.Equal([first, second], queue.Waiting);
        Assert.False(queue.AvailableAgentFreeSlots.ContainsKey(agentId));
    }

    [Fact]
    public async Task AWaitingCustomerWhoClosesThePageIsAbandonedAfterTheGrace()
    {
        var (agentId, _) = await AvailableAgentAsync("Alice");
        var session = await WaitingCustomerAsync("tab-1");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == session);

        await _client.GetGrain<ICustomerGrain>(session).DisconnectedAsync("tab-1");

        var withdrawn = await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == agentId && p.SessionId == session);
        Assert.Equal("customer left", withdrawn.Payload);
        Assert.Equal(SessionStatus.Ended, await _client.GetGrain<ICustomerGrain>(session).GetStatusAsync());
        Assert.Empty((await Queue.GetSnapshotAsync()).Waiting);
        SessionRecord? record = null;
        await Eventually.HoldsAsync(async () => (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(session))?.Steps.Count == 4,
            "all four steps are in the record");
        Assert.Equal(SessionOutcome.Abandoned, record!.Summary.Outcome);
        Assert.Equal([StepKinds.Requested, StepKinds.Offered, StepKinds.OfferWithdrawn, StepKinds.Abandoned], record.Steps.Select(s => s.Kind));
    }

    [Fact]
    public async Task AReloadIsNotAbandonment()
    {
        var (sessionId, token) = await StartWithTokenAsync("tab-1");
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);

        await customer.DisconnectedAsync("tab-1");
        var resumed = await customer.ResumeAsync(token, 0, GatewayRef(), "tab-1-reloaded");
        Assert.Equal(SessionStatus.Queued, resumed.Status);

        // The grace passes; the session is still waiting, first in line, and an agent gets it.
        var (agentId, _) = await AvailableAgentAsync("Late");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == sessionId);
        await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == agentId && p.SessionId == sessionId);
        Assert.Equal(SessionStatus.Queued, await customer.GetStatusAsync());
        Assert.Equal([sessionId], (await Queue.GetSnapshotAsync()).Waiting);
    }

    private async Task<(Guid SessionId, string Secret)> StartWithTokenAsync(string connectionId)
    {
        var sessionId = Guid.NewGuid();
        var started = await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), connectionId);
        return (sessionId, started.ResumeToken.Split('.')[1]);
    }
}
