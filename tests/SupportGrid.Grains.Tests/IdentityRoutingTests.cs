using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>Who gets a chat depends on the customer's verified identity: VIP tiers, returning customers, account managers.</summary>
[Collection(ClusterCollection.Name)]
public sealed class IdentityRoutingTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<string> AgentAsync(string site, string name, bool available = true)
    {
        var agentId = $"{site}-{name}";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, name, 3, [QueueKey.For(site, "sales")]), GatewayRef());
        if (available)
            await agent.SetStatusAsync(AgentStatus.Available);
        return agentId;
    }

    private async Task<(Guid SessionId, int Position)> StartAsync(string site, string name, string? customerId = null, bool verified = false, string? tier = null)
    {
        var sessionId = Guid.NewGuid();
        var result = await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(site, "sales", name, null, null, "https://shop.example/", null, customerId, verified, null, tier),
            GatewayRef(), "conn-" + sessionId);
        return (sessionId, result.Position);
    }

    private static string NewSite(string prefix) => prefix + Guid.NewGuid().ToString("N")[..8];

    [Fact]
    public async Task AVerifiedVipIsServedBeforeCustomersWhoCameEarlier()
    {
        var site = NewSite("vip");
        var (first, p1) = await StartAsync(site, "First");
        var (second, p2) = await StartAsync(site, "Second");
        var (vip, pVip) = await StartAsync(site, "Vera", "cust-vip", verified: true, tier: "vip");
        var (fake, pFake) = await StartAsync(site, "Faker", "cust-fake", verified: false, tier: "vip");

        Assert.Equal((1, 2, 1, 4), (p1, p2, pVip, pFake));
        Assert.Equal([vip, first, second, fake], (await _client.GetGrain<IQueueGrain>(QueueKey.For(site, "sales")).GetSnapshotAsync()).Waiting);
        await _gateway.WaitForAsync(p => p.Kind == "position" && p.SessionId == first && (int)p.Payload! == 2);

        var agentId = await AgentAsync(site, "Alice");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == vip);
    }

    [Fact]
    public async Task AReturningVerifiedCustomerIsOfferedToTheirPreviousAgentFirst()
    {
        var site = NewSite("ret");
        var previous = await AgentAsync(site, "Previous");
        var (firstVisit, _) = await StartAsync(site, "Rhea", "cust-1", verified: true);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == firstVisit);
        await _client.GetGrain<IAgentGrain>(previous).AcceptOfferAsync(firstVisit);
        // Another agent comes in while that chat is on; when it ends, the other agent has been idle longer.
        var other = await AgentAsync(site, "Other");
        await _client.GetGrain<ICustomerGrain>(firstVisit).EndAsync();
        await Eventually.HoldsAsync(async () => (await _client.GetGrain<IAgentGrain>(previous).GetSnapshotAsync()).Chats.Count == 0,
            "the previous agent hears that the chat ended");

        var (secondVisit, _) = await StartAsync(site, "Rhea", "cust-1", verified: true);

        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == secondVisit);
        Assert.DoesNotContain(_gateway.Seen(), p => p.Kind == "offer" && p.AgentId == other && p.SessionId == secondVisit);
        var (stranger, _) = await StartAsync(site, "Stan");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == other && p.SessionId == stranger);
    }

    /// <summary>Agent "Previous" (one chat at a time) served Rhea (verified "cust-9") once and is now away.</summary>
    private async Task<string> RheasPreviousAgentNowAwayAsync(string site)
    {
        var previous = $"{site}-Previous";
        await _client.GetGrain<IAgentGrain>(previous).ConnectAsync("conn-" + previous,
            new AgentProfile(previous, "Previous", 1, [QueueKey.For(site, "sales")]), GatewayRef());
        await _client.GetGrain<IAgentGrain>(previous).SetStatusAsync(AgentStatus.Available);
        var (firstVisit, _) = await StartAsync(site, "Rhea", "cust-9", verified: true);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == firstVisit);
        await _client.GetGrain<IAgentGrain>(previous).AcceptOfferAsync(firstVisit);
        await _client.GetGrain<ICustomerGrain>(firstVisit).EndAsync();
        await _client.GetGrain<IAgentGrain>(previous).SetStatusAsync(AgentStatus.Away);
        return previous;
    }

    [Fact]
    public async Task AVipAnyoneMayTakeComesBeforeACustomerHeldForTheirAgent()
    {
        var site = NewSite("heldvip");
        var previous = await RheasPreviousAgentNowAwayAsync(site);
        var (rhea, _) = await StartAsync(site, "Rhea", "cust-9", verified: true);
        var (vera, _) = await StartAsync(site, "Vera", "cust-vip", verified: true, tier: "vip");

        await _client.GetGrain<IAgentGrain>(previous).SetStatusAsync(AgentStatus.Available);

        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == vera);
        Assert.DoesNotContain(_gateway.Seen(), p => p.Kind == "offer" && p.SessionId == rhea);
    }

    [Fact]
    public async Task ACustomerHeldForTheirAgentIsThatAgentsFirstChatAndIsFreedWhenTheAgentDeclines()
    {
        var site = NewSite("held");
        var previous = await RheasPreviousAgentNowAwayAsync(site);

        // Stan comes first, then Rhea returns: both wait, Stan ahead.
        var (stan, _) = await StartAsync(site, "Stan");
        var (secondVisit, position) = await StartAsync(site, "Rhea", "cust-9", verified: true);
        Assert.Equal(2, position);

        // Her agent is back with one free slot: she is their first chat, ahead of Stan, who waits for anyone.
        await _client.GetGrain<IAgentGrain>(previous).SetStatusAsync(AgentStatus.Available);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == secondVisit);
        Assert.DoesNotContain(_gateway.Seen(), p => p.Kind == "offer" && p.SessionId == stan);

        // The agent declines her: she is no longer held for them, and the slot goes to Stan, the oldest.
        await _client.GetGrain<IAgentGrain>(previous).DeclineOfferAsync(secondVisit);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == previous && p.SessionId == stan);
        var other = await AgentAsync(site, "Other");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == other && p.SessionId == secondVisit);
    }

    [Fact]
    public async Task AnAccountManagersCustomerWaitsForThemThenFallsBackToTheQueue()
    {
        // The fixture names "managed-Manager" as the account manager of customer "cust-7" on site "managed".
        const string site = "managed";
        await AgentAsync(site, "Manager", available: false);
        var colleague = await AgentAsync(site, "Colleague");
        var (session, _) = await StartAsync(site, "Mia", "cust-7", verified: true);

        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == colleague && p.SessionId == session);

        // Records are written in the background by the silo that saw each step; wait until both silos' writes are in.
        SessionRecord? record = null;
        await Eventually.HoldsAsync(async () =>
            (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(session))?.Steps.Any(s => s.Kind == StepKinds.Offered) == true,
            "the offer is in the record");
        var requested = record!.Steps.Single(s => s.Kind == StepKinds.Requested).At;
        var offered = record.Steps.First(s => s.Kind == StepKinds.Offered);
        Assert.Equal(colleague, offered.AgentId);
        Assert.True(offered.At - requested >= ClusterFixture.AffinityWait - TimeSpan.FromMilliseconds(50),
            $"offered to the colleague after {(offered.At - requested).TotalMilliseconds} ms, before the affinity wait");
    }

    [Fact]
    public async Task AnUnverifiedCustomerIdNeverSteersRouting()
    {
        // The fixture names "managed2-Manager" as the account manager of "cust-7" on site "managed2".
        const string site = "managed2";
        var colleague = await AgentAsync(site, "Colleague");   // idle longest: the default choice
        var manager = await AgentAsync(site, "Manager");

        var (claimed, _) = await StartAsync(site, "Mallory", "cust-7", verified: false);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == colleague && p.SessionId == claimed);

        var (genuine, _) = await StartAsync(site, "Mia", "cust-7", verified: true);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == manager && p.SessionId == genuine);
    }
}
