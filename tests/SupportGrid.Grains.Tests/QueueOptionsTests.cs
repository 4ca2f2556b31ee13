using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>Per-queue settings: offers to several agents at once, and a maximum wait with overflow or a message.</summary>
[Collection(ClusterCollection.Name)]
public sealed class QueueOptionsTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<IAgentGrain> AvailableAgentAsync(string agentId, params string[] queues)
    {
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, agentId, 2, queues), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        return agent;
    }

    private async Task<Guid> StartAsync(string site)
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-c");
        return sessionId;
    }

    [Fact]
    public async Task AQueueThatOffersToTwoAtOnceGivesTheChatToTheFirstWhoAcceptsAndWithdrawsItFromTheOther()
    {
        var ids = new[] { "multi-a", "multi-b", "multi-c" };
        foreach (var id in ids)
            await AvailableAgentAsync(id, "multi/sales");
        var sessionId = await StartAsync("multi");

        var offered = new[] { await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == sessionId) };
        var second = await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == sessionId && p.AgentId != offered[0].AgentId);
        var snapshot = await _client.GetGrain<IQueueGrain>("multi/sales").GetSnapshotAsync();
        Assert.Equal(new[] { offered[0].AgentId!, second.AgentId! }.Order(), snapshot.OfferedTo[sessionId].Order()); // the two pushes race
        var idle = ids.Except([offered[0].AgentId!, second.AgentId!]).Single();

        var winner = _client.GetGrain<IAgentGrain>(second.AgentId!);
        var accepted = await winner.AcceptOfferAsync(sessionId);
        Assert.Equal(sessionId, accepted.SessionId);
        var withdrawn = await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.SessionId == sessionId && p.AgentId == offered[0].AgentId);
        Assert.Equal("a colleague took it", withdrawn.Payload);
        var late = await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<IAgentGrain>(offered[0].AgentId!).AcceptOfferAsync(sessionId));
        Assert.Equal(ErrorCodes.OfferNotFound, late.Code);
        Assert.DoesNotContain(_gateway.Seen(), p => p.Kind == "offer" && p.AgentId == idle && p.SessionId == sessionId);
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync());
    }

    [Fact]
    public async Task AnAgentJustOfferedAChatIsNoLongerTheLongestIdleSoTheNextCustomerGoesToAnother()
    {
        // Both agents have room for two; without this rule the agent idle longest would get both customers.
        var site = "spread" + Guid.NewGuid().ToString("N")[..8];
        var agents = new[] { site + "-a", site + "-b" };
        foreach (var id in agents)
            await AvailableAgentAsync(id, site + "/sales");

        var first = await StartAsync(site);
        var firstOffer = await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == first);
        var second = await StartAsync(site);
        var secondOffer = await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == second);

        Assert.NotEqual(firstOffer.AgentId, secondOffer.AgentId);
        Assert.Equal(agents, new[] { firstOffer.AgentId!, secondOffer.AgentId! }.Order());
    }

    [Fact]
    public async Task ACustomerWhoWaitsTooLongMovesToTheOverflowQueueThenIsAskedToLeaveAMessage()
    {
        // overflow/sales: MaxWait 1 s, then overflow/help; overflow/help: MaxWait 1.5 s and no overflow. Nobody serves either.
        var sessionId = await StartAsync("overflow");
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        Assert.Contains(sessionId, (await _client.GetGrain<IQueueGrain>("overflow/sales").GetSnapshotAsync()).Waiting);

        // The customer joins the overflow queue first and then leaves the first one (never in neither): wait for both.
        await Eventually.HoldsAsync(async () => (await _client.GetGrain<IQueueGrain>("overflow/help").GetSnapshotAsync()).Waiting.Contains(sessionId)
            && !(await _client.GetGrain<IQueueGrain>("overflow/sales").GetSnapshotAsync()).Waiting.Contains(sessionId),
            "the customer waits in the overflow queue only");
        Assert.Equal(SessionStatus.Queued, await customer.GetStatusAsync());

        var ended = await _gateway.WaitForAsync(p => p.Kind == "ended" && p.SessionId == sessionId);
        Assert.StartsWith("offer-message: ", (string)ended.Payload!);
        Assert.Equal(SessionStatus.Ended, await customer.GetStatusAsync());
        Assert.DoesNotContain(sessionId, (await _client.GetGrain<IQueueGrain>("overflow/help").GetSnapshotAsync()).Waiting);

        SessionRecord? record = null;
        await Eventually.HoldsAsync(async () => (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(sessionId))?.Summary.Outcome is not null,
            "the session's record is closed");
        Assert.Equal(SessionOutcome.TimedOut, record!.Summary.Outcome);
        Assert.Equal([StepKinds.Overflowed, StepKinds.TimedOut], record.Steps.Select(s => s.Kind).Where(k => k is StepKinds.Overflowed or StepKinds.TimedOut));
        Assert.Contains(record.Steps, s => s.Kind == StepKinds.Overflowed && s.Detail == "overflow/sales -> overflow/help");
    }

    [Fact]
    public async Task AnOverflowedCustomerIsServedByTheOverflowQueuesAgents()
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest("overflow", "sales", "Eve", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-e");
        await Eventually.HoldsAsync(async () => (await _client.GetGrain<IQueueGrain>("overflow/help").GetSnapshotAsync()).Waiting.Contains(sessionId),
            "the customer waits in the overflow queue");
        var helper = await AvailableAgentAsync("overflow-helper", "overflow/help");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == "overflow-helper" && p.SessionId == sessionId);
        await helper.AcceptOfferAsync(sessionId);
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync());
        await _client.GetGrain<ICustomerGrain>(sessionId).EndAsync();
        await helper.SetStatusAsync(AgentStatus.Offline);
    }

    [Fact]
    public async Task AnAgentServingTwoQueuesIsOfferedTheHigherPriorityQueuesCustomerFirst()
    {
        // prio/high has priority 10, prio/low 0; the low customer has waited longer. The agent has room for one chat.
        var low = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(low).StartAsync(
            new ChatRequest("prio", "low", "Lou", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-l");
        var high = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(high).StartAsync(
            new ChatRequest("prio", "high", "Hal", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-h");
        var agent = _client.GetGrain<IAgentGrain>("prio-agent");
        await agent.ConnectAsync("conn-p", new AgentProfile("prio-agent", "Pat", 1, ["prio/low", "prio/high"]), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);

        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == high);
        await Eventually.HoldsAsync(async () =>
            (await agent.GetSnapshotAsync()).Offers.Select(o => o.SessionId).SequenceEqual([high])
            && (await _client.GetGrain<IQueueGrain>("prio/low").GetSnapshotAsync()).OfferedTo.Count == 0,
            "the agent holds the high-priority offer only");

        // Once the higher queue has nobody for this agent, the lower queue's customer is offered.
        await agent.DeclineOfferAsync(high);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == low && p.AgentId == "prio-agent");
        await agent.AcceptOfferAsync(low);
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(low).GetStatusAsync());
        await _client.GetGrain<ICustomerGrain>(low).EndAsync();
        await _client.GetGrain<ICustomerGrain>(high).EndAsync();
        await agent.SetStatusAsync(AgentStatus.Offline);
    }
}
