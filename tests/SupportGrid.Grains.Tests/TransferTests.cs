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
        var seq = await customer.SendMessageAsync("Thanks", "c2");
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
}
