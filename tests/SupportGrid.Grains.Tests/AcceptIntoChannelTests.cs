using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>An agent accepts a waiting customer into a chat they already have (claim 11): no new channel, no extra capacity.</summary>
[Collection(ClusterCollection.Name)]
public sealed class AcceptIntoChannelTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "i" + Guid.NewGuid().ToString("N")[..8];

    private string QueueKeyName => QueueKey.For(_site, "sales");

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<IAgentGrain> AvailableAgentAsync(string name, int capacity, string queue = "sales")
    {
        var agentId = $"{_site}-{name.ToLowerInvariant()}";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, name, capacity, [QueueKey.For(_site, queue)]), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        return agent;
    }

    private async Task<Guid> WaitingCustomerAsync(string name, string queue = "sales")
    {
        var sessionId = Guid.NewGuid();
        var request = new ChatRequest(_site, queue, name, null, null, "https://shop.example/kettle", "Kettle", null, false, null);
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(request, GatewayRef(), "conn-" + sessionId);
        return sessionId;
    }

    private Task OfferedAsync(IAgentGrain agent, Guid sessionId) =>
        _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agent.GetPrimaryKeyString() && p.SessionId == sessionId);

    [Fact]
    public async Task AWaitingCustomerAcceptedIntoAnOpenChatJoinsThatChannelAndUsesNoExtraCapacity()
    {
        var agent = await AvailableAgentAsync("Alice", capacity: 2);
        var dana = await WaitingCustomerAsync("Dana");
        await OfferedAsync(agent, dana);
        var first = await agent.AcceptOfferAsync(dana);

        var eve = await WaitingCustomerAsync("Eve");
        await OfferedAsync(agent, eve);
        var into = await agent.AcceptOfferIntoChannelAsync(eve, first.ChannelId);

        Assert.Equal((first.ChannelId, eve, "Eve"), (into.ChannelId, into.SessionId, into.Customer.Name));
        Assert.Contains(into.Events, e => e is { Type: EventTypes.Joined, Text: "Eve joined the chat." } && e.From.Id == eve.ToString());
        var me = new MemberRef(Roles.Agent, agent.GetPrimaryKeyString(), "Alice");
        var members = await _client.GetGrain<IChannelGrain>(first.ChannelId).GetMembersAsync(me);
        Assert.Equal([dana.ToString(), eve.ToString()], members.Where(m => m.Role == Roles.Customer).Select(m => m.Id));
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        var joined = await _gateway.WaitForAsync(p => p.Kind == "joined" && p.SessionId == eve);
        Assert.Equal(first.ChannelId, joined.Payload);

        // Still one chat of two: the queue sees one free slot and offers the next customer.
        var snapshot = await agent.GetSnapshotAsync();
        Assert.Equal([first.ChannelId], snapshot.Chats.Select(c => c.ChannelId));
        Assert.Equal(1, (await _client.GetGrain<IQueueGrain>(QueueKeyName).GetSnapshotAsync()).AvailableAgentFreeSlots[agent.GetPrimaryKeyString()]);
        var finn = await WaitingCustomerAsync("Finn");
        await OfferedAsync(agent, finn);

        // Eve is a customer of the chat like any other: she chats, and the others hear her.
        var said = (await _client.GetGrain<ICustomerGrain>(eve).SendMessageAsync("Hello both!", "e1")).Event.Seq;
        var seen = await _client.GetGrain<IChannelGrain>(first.ChannelId).GetEventsAsync(new MemberRef(Roles.Customer, dana.ToString(), ""), said - 1);
        Assert.Equal(("Hello both!", eve.ToString()), (seen.Single().Text, seen.Single().From.Id));
    }

    [Fact]
    public async Task AcceptingIntoAChatTheAgentIsNotInIsRefusedAndTheOfferStaysOpen()
    {
        // Bob serves another queue of the site and has a chat there; Alice is offered Eve.
        var bob = await AvailableAgentAsync("Bob", capacity: 2, queue: "service");
        var dana = await WaitingCustomerAsync("Dana", queue: "service");
        await OfferedAsync(bob, dana);
        var bobsChat = await bob.AcceptOfferAsync(dana);
        var alice = await AvailableAgentAsync("Alice", capacity: 2);
        var eve = await WaitingCustomerAsync("Eve");
        await OfferedAsync(alice, eve);

        var foreign = await Assert.ThrowsAsync<SupportGridException>(() => alice.AcceptOfferIntoChannelAsync(eve, bobsChat.ChannelId));
        Assert.Equal(ErrorCodes.NotMember, foreign.Code);
        var notOffered = await Assert.ThrowsAsync<SupportGridException>(() => bob.AcceptOfferIntoChannelAsync(eve, bobsChat.ChannelId));
        Assert.Equal(ErrorCodes.OfferNotFound, notOffered.Code);

        // Nothing was claimed: Eve still waits, her offer to Alice is open, and an ordinary accept works.
        Assert.Equal(SessionStatus.Queued, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        var accepted = await alice.AcceptOfferAsync(eve);
        Assert.NotEqual(bobsChat.ChannelId, accepted.ChannelId);
        var me = new MemberRef(Roles.Agent, bob.GetPrimaryKeyString(), "Bob");
        Assert.Single(await _client.GetGrain<IChannelGrain>(bobsChat.ChannelId).GetMembersAsync(me), m => m.Role == Roles.Customer);
    }
}
