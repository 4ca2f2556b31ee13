using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>An agent hands a chat on to a queue or a colleague; the customer keeps the channel, its history and their place.</summary>
[Collection(ClusterCollection.Name)]
public sealed class TransferTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "x" + Guid.NewGuid().ToString("N")[..8];

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private string Q(string queue) => QueueKey.For(_site, queue);

    private async Task<string> AgentAsync(string name, params string[] queues)
    {
        var agentId = $"{_site}-{name}";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, name, 3, queues.Select(Q).ToList()), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        return agentId;
    }

    private async Task<(Guid SessionId, AcceptResult Chat)> ChatWithAsync(string agentId)
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", "Tess", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-" + sessionId);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == sessionId);
        return (sessionId, await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferAsync(sessionId));
    }

    [Fact]
    public async Task AChatTransferredToAnotherQueueKeepsItsChannelHistoryAndNote()
    {
        var sales = await AgentAsync("Sally", "sales");
        var support = await AgentAsync("Sam", "support");
        var (sessionId, chat) = await ChatWithAsync(sales);
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        await customer.SendMessageAsync("I want a refund", "c1");

        await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, "refund for order 1042");

        Assert.Equal(SessionStatus.Queued, await customer.GetStatusAsync());
        Assert.Empty((await _client.GetGrain<IAgentGrain>(sales).GetSnapshotAsync()).Chats);
        var offer = (ChatOffer)(await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == sessionId)).Payload!;
        Assert.Equal(("Sally", "refund for order 1042"), (offer.Transfer!.FromAgent, offer.Transfer.Note));

        var second = await _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(sessionId);

        Assert.Equal(chat.ChannelId, second.ChannelId);
        Assert.Equal(
            [(EventTypes.Joined, "Sally"), (EventTypes.Message, "Tess"), (EventTypes.Left, "Sally"), (EventTypes.Joined, "Sam")],
            second.Events.Select(e => (e.Type, e.From.Name)));
        Assert.Equal(SessionStatus.Connected, await customer.GetStatusAsync());
        var seq = (await customer.SendMessageAsync("Thanks", "c2")).Event.Seq;
        Assert.Equal(5, seq);
        var left = await Assert.ThrowsAsync<SupportGridException>(() =>
            _client.GetGrain<IChannelGrain>(chat.ChannelId).PostMessageAsync(new MemberRef(Roles.Agent, sales, "Sally"), "still here?", "s9"));
        Assert.Equal(ErrorCodes.NotMember, left.Code);

        SessionRecord? record = null;
        await Eventually.HoldsAsync(async () =>
            (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(sessionId))?.Steps.Count(s => s.Kind == StepKinds.Accepted) == 2,
            "both accepts are in the record");
        Assert.Equal([sales, support], record!.Summary.Agents);
        Assert.Contains(record.Steps, s => s.Kind == StepKinds.Transferred && s.AgentId == sales && s.Detail!.Contains("refund for order 1042"));
    }

    [Fact]
    public async Task AChatTransferredToAColleagueIsOfferedToThemAndNeverBackToTheSender()
    {
        var first = await AgentAsync("First", "sales");
        var colleague = await AgentAsync("Colleague", "sales");
        var bystander = await AgentAsync("Bystander", "sales");
        var (sessionId, chat) = await ChatWithAsync(first);

        await _client.GetGrain<IAgentGrain>(first).TransferAsync(chat.ChannelId, [Q("sales")], colleague, null);

        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == colleague && p.SessionId == sessionId);
        Assert.DoesNotContain(_gateway.Seen(), p => p.Kind == "offer" && p.SessionId == sessionId && p.AgentId == bystander);
        var snapshot = await _client.GetGrain<IQueueGrain>(Q("sales")).GetSnapshotAsync();
        Assert.Equal(colleague, Assert.Single(snapshot.OfferedTo[sessionId]));
    }

    [Fact]
    public async Task ATransferThatCannotBeMadeLeavesTheChatWhereItWas()
    {
        var agent = await AgentAsync("Keeper", "sales");
        var (sessionId, chat) = await ChatWithAsync(agent);
        var agentGrain = _client.GetGrain<IAgentGrain>(agent);

        var self = await Assert.ThrowsAsync<SupportGridException>(() => agentGrain.TransferAsync(chat.ChannelId, [Q("sales")], agent, null));
        Assert.Contains("yourself", self.Message);
        var foreign = await Assert.ThrowsAsync<SupportGridException>(() => agentGrain.TransferAsync(chat.ChannelId, ["elsewhere/sales"], null, null));
        Assert.Contains("cannot go to a queue of site", foreign.Message);
        var notMine = await Assert.ThrowsAsync<SupportGridException>(() => agentGrain.TransferAsync(Guid.NewGuid(), [Q("sales")], null, null));
        Assert.Equal(ErrorCodes.NotMember, notMine.Code);

        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync());
        Assert.Single((await agentGrain.GetSnapshotAsync()).Chats);
    }

    [Fact]
    public async Task ATransferRetriedAfterItsAnswerWasLostIsDoneOnceAndNeverTakesTheChatBackFromTheNextAgent()
    {
        var first = await AgentAsync("First", "sales");
        var next = await AgentAsync("Next", "sales");
        var (sessionId, chat) = await ChatWithAsync(first);
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        // What the first agent's grain sends; a silo lost after it means the agent tries again with the same transfer.
        var transfer = new TransferInfo("First", null, first, Guid.NewGuid());

        var position = await customer.RequeueAsync(Q("sales"), null, transfer);
        var again = await customer.RequeueAsync(Q("sales"), null, transfer);

        Assert.Equal(position, again);
        Assert.Equal([sessionId], (await _client.GetGrain<IQueueGrain>(Q("sales")).GetSnapshotAsync()).Waiting);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == next && p.SessionId == sessionId);
        var taken = await _client.GetGrain<IAgentGrain>(next).AcceptOfferAsync(sessionId);
        Assert.Equal(chat.ChannelId, taken.ChannelId);

        Assert.Equal(0, await customer.RequeueAsync(Q("sales"), null, transfer)); // a late retry: already done
        Assert.Equal(SessionStatus.Connected, await customer.GetStatusAsync());
        Assert.Empty((await _client.GetGrain<IQueueGrain>(Q("sales")).GetSnapshotAsync()).Waiting);
        // A transfer of its own by the agent who has the chat now is a new one and is made.
        await _client.GetGrain<IAgentGrain>(next).TransferAsync(chat.ChannelId, [Q("sales")], null, null);
        Assert.Equal(SessionStatus.Queued, await customer.GetStatusAsync());
    }

    [Fact]
    public async Task AnAgentWhoseTransferWasCutShortAfterLeavingTheChatIsNotLeftHoldingIt()
    {
        var first = await AgentAsync("First", "sales");
        var (sessionId, chat) = await ChatWithAsync(first);
        // What the agent's grain had done when its silo was lost: the customer queued again, the chat left; only the
        // agent's own note that it holds the chat was not yet written.
        await _client.GetGrain<ICustomerGrain>(sessionId).RequeueAsync(Q("sales"), null, new TransferInfo("First", null, first, Guid.NewGuid()));
        await _client.GetGrain<IChannelGrain>(chat.ChannelId).LeaveAsync(new MemberRef(Roles.Agent, first, "First"), "transferred");

        var snapshot = await _client.GetGrain<IAgentGrain>(first).GetSnapshotAsync();

        Assert.Empty(snapshot.Chats); // the console loads, without the chat the agent is no longer in
        Assert.Equal(3, (await _client.GetGrain<IQueueGrain>(Q("sales")).GetSnapshotAsync()).AvailableAgentFreeSlots[first]);
        Assert.Contains(_gateway.Seen(), p => p.Kind == "chat-left" && p.AgentId == first);
    }

    /// <summary>A second customer accepted into the chat of <paramref name="agentId"/> (claim 11).</summary>
    private async Task<Guid> JoinedCustomerAsync(string agentId, Guid channelId, string name)
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", name, null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-" + sessionId);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agentId && p.SessionId == sessionId);
        await _client.GetGrain<IAgentGrain>(agentId).AcceptOfferIntoChannelAsync(sessionId, channelId);
        return sessionId;
    }

    /// <summary>Sally (sales) chats with Dana, who opened the chat, and Eve, accepted into it; Sam serves support.</summary>
    private async Task<(string Sales, string Support, Guid Dana, AcceptResult Chat, Guid Eve)> FamilyChatAsync()
    {
        var sales = await AgentAsync("Sally", "sales");
        var support = await AgentAsync("Sam", "support");
        var (dana, chat) = await ChatWithAsync(sales);
        var eve = await JoinedCustomerAsync(sales, chat.ChannelId, "Eve");
        return (sales, support, dana, chat, eve);
    }

    private async Task<IReadOnlyList<string>> MembersAsync(Guid channelId, string agentId) =>
        (await _client.GetGrain<IChannelGrain>(channelId).GetMembersAsync(new MemberRef(Roles.Agent, agentId, ""))).Select(m => m.Id).ToList();

    [Fact]
    public async Task AChatWithSeveralCustomersIsTransferredWholeEvenAfterTheCustomerWhoOpenedItLeft()
    {
        var (sales, support, dana, chat, eve) = await FamilyChatAsync();
        var finn = await JoinedCustomerAsync(sales, chat.ChannelId, "Finn");
        await _client.GetGrain<ICustomerGrain>(dana).EndAsync(); // the others chat on

        await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, "family order");

        // One of the customers still in the chat waits in the queue for all of them; the other stays in the channel.
        Assert.Equal(SessionStatus.Queued, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(finn).GetStatusAsync());
        Assert.Equal([eve], (await _client.GetGrain<IQueueGrain>(Q("support")).GetSnapshotAsync()).Waiting);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == eve);
        var taken = await _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(eve);

        Assert.Equal(chat.ChannelId, taken.ChannelId);
        Assert.Equal(new[] { eve.ToString(), finn.ToString(), support }.Order(), (await MembersAsync(chat.ChannelId, support)).Order());
        var said = (await _client.GetGrain<ICustomerGrain>(finn).SendMessageAsync("Still here", "f1")).Event.Seq;
        var seen = await _client.GetGrain<IChannelGrain>(chat.ChannelId).GetEventsAsync(new MemberRef(Roles.Agent, support, "Sam"), said - 1);
        Assert.Equal(("Still here", finn.ToString()), (seen.Single().Text, seen.Single().From.Id));
        foreach (var customer in new[] { eve, finn })
        {
            await Eventually.HoldsAsync(async () => (await _client.GetGrain<IRecordsGrain>(0).GetAsync(customer))?.Steps
                .Any(s => s.Kind == StepKinds.Transferred && s.AgentId == sales) == true, $"{customer}'s record shows the transfer");
        }
    }

    [Fact]
    public async Task WhenTheCustomerWaitingForAChannelLeavesAnotherOfItsCustomersTakesTheirPlace()
    {
        var (sales, support, dana, chat, eve) = await FamilyChatAsync();
        await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, "family order");
        Assert.Equal(SessionStatus.Queued, await _client.GetGrain<ICustomerGrain>(dana).GetStatusAsync());
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == dana);

        await _client.GetGrain<ICustomerGrain>(dana).EndAsync(); // Dana leaves before Sam answers

        Assert.Equal(SessionStatus.Queued, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        var offer = (ChatOffer)(await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == eve)).Payload!;
        Assert.Equal(("Sally", "family order"), (offer.Transfer!.FromAgent, offer.Transfer.Note));
        var taken = await _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(eve);
        Assert.Equal(chat.ChannelId, taken.ChannelId);
        Assert.Equal(new[] { eve.ToString(), support }.Order(), (await MembersAsync(chat.ChannelId, support)).Order());
        Assert.Contains(taken.Events, e => e.Type == EventTypes.Left && e.From.Id == dana.ToString());
        var stale = await Assert.ThrowsAsync<SupportGridException>(() => _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(dana));
        Assert.Equal(ErrorCodes.OfferNotFound, stale.Code);
    }

    [Fact]
    public async Task ACustomerLeavingAChannelThatWaitsForTheNextAgentDoesNotEndItForTheOthers()
    {
        var (sales, support, dana, chat, eve) = await FamilyChatAsync();
        await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, null);

        await _client.GetGrain<ICustomerGrain>(eve).EndAsync(); // no agent in the channel now; Dana waits for one

        Assert.Equal(SessionStatus.Ended, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == dana);
        var taken = await _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(dana);
        Assert.Equal(new[] { dana.ToString(), support }.Order(), (await MembersAsync(chat.ChannelId, support)).Order());
        Assert.DoesNotContain(taken.Events, e => e.Type == EventTypes.Ended);
    }
    [Fact]
    public async Task WhenTheCustomerWaitingForAChannelLeavesWhileAnAgentClaimsThemAnotherTakesTheirPlace()
    {
        var (sales, support, dana, chat, eve) = await FamilyChatAsync();
        await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, "family order");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == dana);
        // Sam's accept has claimed Dana (its first step, made here directly) when Dana leaves.
        await _client.GetGrain<IQueueGrain>(Q("support")).ClaimOfferAsync(dana, support);

        await _client.GetGrain<ICustomerGrain>(dana).EndAsync();

        // Leaving ended the claim and handed the wait on: Eve waits for the next agent, the chat did not end.
        Assert.Equal(SessionStatus.Queued, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        Assert.Equal([eve], (await _client.GetGrain<IQueueGrain>(Q("support")).GetSnapshotAsync()).Waiting);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == eve);
        var taken = await _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(eve);
        Assert.Equal(chat.ChannelId, taken.ChannelId);
        Assert.DoesNotContain(taken.Events, e => e.Type == EventTypes.Ended);
        Assert.Equal(new[] { eve.ToString(), support }.Order(), (await MembersAsync(chat.ChannelId, support)).Order());
    }

    [Fact]
    public async Task AnAgentAcceptingAsTheCustomerWaitingForAChannelLeavesNeverEndsItForTheOthers()
    {
        // The accept and the leaving race; whichever wins, Eve is never dropped: either Sam took the chat (Dana then
        // left it) or Sam stepped back and Eve waits in Dana's place.
        for (var round = 0; round < 6; round++)
        {
            var (sales, support, dana, chat, eve) = await FamilyChatAsync();
            await _client.GetGrain<IAgentGrain>(sales).TransferAsync(chat.ChannelId, [Q("support")], null, null);
            await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == support && p.SessionId == dana);

            var accepting = _client.GetGrain<IAgentGrain>(support).AcceptOfferAsync(dana);
            var leaving = _client.GetGrain<ICustomerGrain>(dana).EndAsync();
            await leaving;
            var refused = await Record.ExceptionAsync(() => accepting);
            var accepted = refused is null;
            if (refused is not null) // too late for the offer, or the customer left during the accept
                Assert.Contains(Assert.IsType<SupportGridException>(refused).Code, new[] { ErrorCodes.OfferNotFound, ErrorCodes.InvalidState });

            var eveStatus = await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync();
            var members = (await _client.GetGrain<IChannelGrain>(chat.ChannelId).GetMembersAsync(new MemberRef(Roles.Customer, eve.ToString(), "Eve")))
                .Select(m => m.Id).ToList();
            Assert.NotEqual(SessionStatus.Ended, eveStatus);
            Assert.Contains(eve.ToString(), members);
            Assert.DoesNotContain(dana.ToString(), members);
            if (accepted)
                Assert.Equal((SessionStatus.Connected, true), (eveStatus, members.Contains(support)));
            else
                Assert.Equal((SessionStatus.Queued, false), (eveStatus, members.Contains(support)));
            await _client.GetGrain<ICustomerGrain>(eve).EndAsync(); // frees Sam for the next round
        }
    }
}
