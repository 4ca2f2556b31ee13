using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

[Collection(ClusterCollection.Name)]
public sealed class ChatFlowTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "t" + Guid.NewGuid().ToString("N")[..8];
    private string QueueKeyName => QueueKey.For(_site, "sales");

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<string> AvailableAgentAsync(string name, int capacity = 3)
    {
        var agentId = $"{_site}-{name}";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, name, capacity, [QueueKeyName]), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        return agentId;
    }

    private async Task<(Guid SessionId, StartChatResult Result)> StartAsync(string name = "Dana", string? connectionId = null, IGatewayObserver? gateway = null)
    {
        var sessionId = Guid.NewGuid();
        var result = await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", name, "555-0100", null, "https://shop.example/kettle", "Kettle", null, false, "203.0.113.7"),
            gateway ?? GatewayRef(),
            connectionId ?? "conn-" + Guid.NewGuid());
        return (sessionId, result);
    }

    private Task<RecordingGateway.Push> OfferTo(string agentId, Guid sessionId) =>
        _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == sessionId);

    private async Task<AcceptResult> ConnectedChatAsync(string agentName = "Alice")
    {
        var agentId = await AvailableAgentAsync(agentName);
        var (sessionId, _) = await StartAsync();
        await OfferTo(agentId, sessionId);
        return await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferAsync(sessionId);
    }

    [Fact]
    public async Task AStartAskedAgainByTheSameConnectionKeepsTheSessionsPlaceAndIsQueuedOnce()
    {
        // The first call's answer was lost (a silo joining or leaving): the hub asks again for the same session.
        var sessionId = Guid.NewGuid();
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        var request = new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null);
        var gateway = GatewayRef();
        var first = await customer.StartAsync(request, gateway, "conn-1");
        var (other, _) = await StartAsync("Eve");

        var again = await customer.StartAsync(request, gateway, "conn-1");

        Assert.Equal((sessionId, 1), (again.SessionId, again.Position));
        Assert.NotEqual(first.ResumeToken, again.ResumeToken);
        Assert.Equal([sessionId, other], (await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync()).Waiting);
        // Anyone else (another connection, or another request) is still refused: a session starts once.
        var elsewhere = await Assert.ThrowsAsync<SupportGridException>(() => customer.StartAsync(request, gateway, "conn-2"));
        Assert.Equal(ErrorCodes.InvalidState, elsewhere.Code);
        var changed = await Assert.ThrowsAsync<SupportGridException>(() => customer.StartAsync(request with { Name = "Mallory" }, gateway, "conn-1"));
        Assert.Equal(ErrorCodes.InvalidState, changed.Code);
    }

    [Fact]
    public async Task OffersChatToTheAgentIdleLongest()
    {
        var first = await AvailableAgentAsync("First");
        await AvailableAgentAsync("Second");
        var (sessionId, result) = await StartAsync();

        Assert.Equal(1, result.Position);
        var offer = await OfferTo(first, sessionId);
        var chatOffer = Assert.IsType<ChatOffer>(offer.Payload);
        Assert.Equal("Dana", chatOffer.Customer.Name);
        Assert.Equal("203.0.113.7", chatOffer.Customer.Ip);
        Assert.Equal("https://shop.example/kettle", chatOffer.PageUrl);
        var snapshot = await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync();
        Assert.Equal(first, Assert.Single(Assert.Single(snapshot.OfferedTo).Value));
    }

    [Fact]
    public async Task OfferMovesToTheNextAgentWhenThePushTimeoutPasses()
    {
        var first = await AvailableAgentAsync("First");
        var second = await AvailableAgentAsync("Second");
        var (sessionId, _) = await StartAsync();
        await OfferTo(first, sessionId);

        var withdrawn = await _gateway.WaitForAsync(p => p.Kind == "withdrawn" && p.AgentId == first && p.SessionId == sessionId);
        Assert.Equal("offer timed out", withdrawn.Payload);
        await OfferTo(second, sessionId);
        await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<IAgentGrain>(first).AcceptOfferAsync(sessionId));
    }

    [Fact]
    public async Task DeclinedChatGoesToTheNextAgentAndNeverBackToTheDecliner()
    {
        var first = await AvailableAgentAsync("First");
        var second = await AvailableAgentAsync("Second");
        var (sessionId, _) = await StartAsync();
        await OfferTo(first, sessionId);

        await _client.GetGrain<IAgentGrain>(first).DeclineOfferAsync(sessionId);
        await OfferTo(second, sessionId);
        await _client.GetGrain<IAgentGrain>(second).DeclineOfferAsync(sessionId);

        var snapshot = await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync();
        Assert.Equal([sessionId], snapshot.Waiting);
        Assert.Empty(snapshot.OfferedTo);
    }

    [Fact]
    public async Task AcceptingJoinsCustomerAndAgentInOneChannel()
    {
        var agentId = await AvailableAgentAsync("Alice");
        var (sessionId, _) = await StartAsync();
        await OfferTo(agentId, sessionId);

        var accepted = await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferAsync(sessionId);

        var joined = await _gateway.WaitForAsync(p => p.Kind == "joined" && p.SessionId == sessionId);
        Assert.Equal(accepted.ChannelId, joined.Payload);
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync());
        var evt = Assert.Single(accepted.Events);
        Assert.Equal((1L, EventTypes.Joined, "Alice"), (evt.Seq, evt.Type, evt.From.Name));
        Assert.Empty((await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync()).Waiting);
        var agent = await _client.GetGrain<IAgentGrain>(agentId).GetSnapshotAsync();
        Assert.Equal(sessionId, Assert.Single(agent.Chats).SessionId);
    }

    [Fact]
    public async Task MessagesGetConsecutiveSequenceNumbersAndARetryIsStoredOnce()
    {
        var chat = await ConnectedChatAsync();
        var customer = _client.GetGrain<ICustomerGrain>(chat.SessionId);

        var first = (await customer.SendMessageAsync("Is the kettle in stock?", "m1")).Event.Seq;
        var retry = (await customer.SendMessageAsync("Is the kettle in stock?", "m1")).Event.Seq;
        var second = (await customer.SendMessageAsync("And in copper?", "m2")).Event.Seq;

        Assert.Equal((2L, 2L, 3L), (first, retry, second));
        var agentMember = new MemberRef(Roles.Agent, $"{_site}-Alice", "Alice");
        var events = await _client.GetGrain<IChannelGrain>(chat.ChannelId).GetEventsAsync(agentMember, 0);
        Assert.Equal([1L, 2L, 3L], events.Select(e => e.Seq));
        Assert.Equal(["Is the kettle in stock?", "And in copper?"], events.Where(e => e.Type == EventTypes.Message).Select(e => e.Text));
    }

    [Fact]
    public async Task ResumeNeedsThisSessionsOwnSecret()
    {
        var (mine, myStart) = await StartAsync("Eve");
        var (other, _) = await StartAsync("Mallory");
        var mySecret = myStart.ResumeToken.Split('.')[1];

        var resumed = await _client.GetGrain<ICustomerGrain>(mine).ResumeAsync(mySecret, 0, GatewayRef(), "conn-" + Guid.NewGuid());
        Assert.Equal((SessionStatus.Queued, 1), (resumed.Status, resumed.Position));

        var wrong = await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<ICustomerGrain>(mine).ResumeAsync(mySecret + "x", 0, GatewayRef(), "conn-" + Guid.NewGuid()));
        Assert.Equal(ErrorCodes.InvalidToken, wrong.Code);
        var foreign = await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<ICustomerGrain>(other).ResumeAsync(mySecret, 0, GatewayRef(), "conn-" + Guid.NewGuid()));
        Assert.Equal(ErrorCodes.InvalidToken, foreign.Code);
        var unknown = await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<ICustomerGrain>(Guid.NewGuid()).ResumeAsync(mySecret, 0, GatewayRef(), "conn-" + Guid.NewGuid()));
        Assert.Equal(ErrorCodes.InvalidToken, unknown.Code);
    }

    [Fact]
    public async Task ResumeAfterASequenceNumberSkipsWhatTheClientHas()
    {
        var agentId = await AvailableAgentAsync("Alice");
        var (sessionId, started) = await StartAsync();
        await OfferTo(agentId, sessionId);
        await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferAsync(sessionId);
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        await customer.SendMessageAsync("one", "a");
        await customer.SendMessageAsync("two", "b");
        await customer.SendMessageAsync("three", "c");

        var resumed = await customer.ResumeAsync(started.ResumeToken.Split('.')[1], 2, GatewayRef(), "conn-" + Guid.NewGuid());

        Assert.Equal(SessionStatus.Connected, resumed.Status);
        Assert.Equal("Alice", resumed.AgentName);
        Assert.Equal([3L, 4L], resumed.Events.Select(e => e.Seq));
        Assert.Equal(["two", "three"], resumed.Events.Select(e => e.Text));
    }

    [Fact]
    public async Task OnlyHttpUrlsCanBeSentAndOnlyByAnAgent()
    {
        var chat = await ConnectedChatAsync();
        var channel = _client.GetGrain<IChannelGrain>(chat.ChannelId);
        var agent = new MemberRef(Roles.Agent, $"{_site}-Alice", "Alice");
        var customer = new MemberRef(Roles.Customer, chat.SessionId.ToString(), "Dana");

        var error = await Assert.ThrowsAsync<SupportGridException>(() => channel.NavigateAsync(agent, "javascript:alert(1)"));
        Assert.Equal(ErrorCodes.InvalidUrl, error.Code);
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<SupportGridException>(() => channel.NavigateAsync(customer, "https://shop.example/"))).Code);
        Assert.Equal(ErrorCodes.NotMember, (await Assert.ThrowsAsync<SupportGridException>(() =>
            channel.PostMessageAsync(new MemberRef(Roles.Agent, "intruder", "X"), "hi", "x"))).Code);

        var seq = await channel.NavigateAsync(agent, "https://shop.example/toaster");
        var events = await channel.GetEventsAsync(customer, seq - 1);
        Assert.Equal((EventTypes.Navigate, "https://shop.example/toaster"), (events[0].Type, events[0].Url));
    }

    [Fact]
    public async Task AnAgentAtCapacityIsNotOfferedMoreChats()
    {
        var agentId = await AvailableAgentAsync("Solo", capacity: 1);
        var (first, _) = await StartAsync("One");
        await OfferTo(agentId, first);
        var accepted = await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferAsync(first);
        var (second, _) = await StartAsync("Two");

        var queue = _client.GetGrain<IQueueGrain>(QueueKeyName);
        var snapshot = await queue.GetSnapshotAsync();
        Assert.Equal([second], snapshot.Waiting);
        Assert.Empty(snapshot.OfferedTo);
        Assert.Equal(0, snapshot.AvailableAgentFreeSlots[agentId]);

        await _client.GetGrain<IChannelGrain>(accepted.ChannelId).EndAsync(new MemberRef(Roles.Agent, agentId, "Solo"), "done");
        await OfferTo(agentId, second);
    }

    [Fact]
    public async Task WaitingCustomersAreToldTheirNewPositionWhenOneAheadLeaves()
    {
        var (first, r1) = await StartAsync("One");
        var (second, r2) = await StartAsync("Two");
        var (third, r3) = await StartAsync("Three");
        Assert.Equal((1, 2, 3), (r1.Position, r2.Position, r3.Position));

        await _client.GetGrain<ICustomerGrain>(first).EndAsync();

        await _gateway.WaitForAsync(p => p.Kind == "position" && p.SessionId == third && (int)p.Payload! == 2);
        await _gateway.WaitForAsync(p => p.Kind == "position" && p.SessionId == second && (int)p.Payload! == 1);
        await _gateway.WaitForAsync(p => p.Kind == "ended" && p.SessionId == first);
        Assert.Equal([second, third], (await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync()).Waiting);
    }

    [Fact]
    public async Task OnceAQueueKnowsWhereItsCustomersAreConnectedItTellsEachGatewayAllTheirNewPositionsInOneCall()
    {
        var gateway = GatewayRef(); // one gateway process, one observer reference
        var sessions = new List<Guid>();
        foreach (var name in new[] { "One", "Two", "Three", "Four", "Five" })
            sessions.Add((await StartAsync(name, gateway: gateway)).SessionId);

        // The first change reaches each customer through its grain, which then registers its gateway with the queue.
        await _client.GetGrain<ICustomerGrain>(sessions[0]).EndAsync();
        for (var i = 1; i < sessions.Count; i++)
            await _gateway.WaitForAsync(p => p.Kind == "position" && p.SessionId == sessions[i] && (int)p.Payload! == i);

        // From then on a tick is one call per gateway carrying every changed position, not one call per customer.
        await _client.GetGrain<ICustomerGrain>(sessions[1]).EndAsync();
        var batch = await _gateway.WaitForAsync(p => p.Kind == "positions"
            && ((IReadOnlyList<QueuePositionUpdate>)p.Payload!).Any(u => u.SessionId == sessions[2]));
        var updates = (IReadOnlyList<QueuePositionUpdate>)batch.Payload!;
        Assert.Equal([(sessions[2], 1), (sessions[3], 2), (sessions[4], 3)], updates.Select(u => (u.SessionId, u.Position)).ToList());
        Assert.All(updates, u => Assert.True(u.EstimatedWaitSeconds > 0));
    }

    [Fact]
    public async Task EndingTheChatEndsItForBothSidesAndFreesTheAgent()
    {
        var chat = await ConnectedChatAsync();
        var agentId = $"{_site}-Alice";
        var customer = _client.GetGrain<ICustomerGrain>(chat.SessionId);

        await customer.EndAsync();

        Assert.Equal(SessionStatus.Ended, await customer.GetStatusAsync());
        var error = await Assert.ThrowsAsync<SupportGridException>(() => customer.SendMessageAsync("hello?", "late"));
        Assert.Equal(ErrorCodes.ChannelEnded, error.Code);
        var events = await _client.GetGrain<IChannelGrain>(chat.ChannelId).GetEventsAsync(new MemberRef(Roles.Agent, agentId, ""), 0);
        Assert.Equal(EventTypes.Ended, events[^1].Type);
        // The agent grain hears of the end one-way; its next answer reflects it.
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        var snapshot = await agent.GetSnapshotAsync();
        Assert.Empty(snapshot.Chats);
    }

    [Fact]
    public async Task AnEndedChatLeavesMemoryAfterItsLingerAndItsTranscriptAndSessionStillRead()
    {
        var chat = await ConnectedChatAsync();
        var customer = _client.GetGrain<ICustomerGrain>(chat.SessionId);
        var channel = _client.GetGrain<IChannelGrain>(chat.ChannelId);
        await customer.SendMessageAsync("Thanks, that is all.", "m1");
        // What each silo's catalog holds now (not the grain directory, whose caches can lag behind a deactivation).
        var management = _client.GetGrain<IManagementGrain>(0);
        async Task<bool> ActiveAsync(IAddressable grain) =>
            (await management.GetDetailedGrainStatistics()).Any(g => g.GrainId == grain.GetGrainId());
        Assert.True(await ActiveAsync(channel));

        await customer.EndAsync();

        // ClusterFixture sets Flow:EndedLinger to 1 s (default 30 s); Orleans' own idle collection would take 15 minutes.
        await Eventually.HoldsAsync(async () => !await ActiveAsync(channel) && !await ActiveAsync(customer),
            "the ended chat's channel and session grains were deactivated");
        var events = await channel.GetEventsAsync(new MemberRef(Roles.Agent, $"{_site}-Alice", ""), 0);
        Assert.Equal([EventTypes.Joined, EventTypes.Message, EventTypes.Ended], events.Select(e => e.Type).TakeLast(3));
        Assert.Equal(SessionStatus.Ended, await customer.GetStatusAsync());
    }
}
