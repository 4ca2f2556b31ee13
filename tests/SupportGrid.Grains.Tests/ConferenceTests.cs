using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>A second agent in a chat: invited by the first, joins with the customer seeing who joined, counts against capacity.</summary>
[Collection(ClusterCollection.Name)]
public sealed class ConferenceTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "c" + Guid.NewGuid().ToString("N")[..8];

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private async Task<IAgentGrain> AgentAsync(string name, string status = AgentStatus.Available)
    {
        var agentId = $"{_site}-{name}";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, name, 2, [QueueKey.For(_site, "sales")]), GatewayRef());
        await agent.SetStatusAsync(status);
        return agent;
    }

    private async Task<(Guid SessionId, AcceptResult Chat)> ChatWithAsync(IAgentGrain agent)
    {
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-c");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.AgentId == agent.GetPrimaryKeyString() && p.SessionId == sessionId);
        return (sessionId, await agent.AcceptOfferAsync(sessionId));
    }

    [Fact]
    public async Task AnInvitedColleagueJoinsTheChatTheCustomerSeesItAndTheFirstAgentCanLeaveItToThem()
    {
        var alice = await AgentAsync("Alice");
        var (sessionId, chat) = await ChatWithAsync(alice);
        var bob = await AgentAsync("Bob");
        var bobId = bob.GetPrimaryKeyString();

        var invitation = await alice.PrepareInvitationAsync(chat.ChannelId, "  order 1042, refund question ");
        await bob.ReceiveInvitationAsync(invitation);
        var pushed = await _gateway.WaitForAsync(p => p.Kind == "invitation" && p.AgentId == bobId);
        var received = Assert.IsType<ChatInvitation>(pushed.Payload);
        Assert.Equal(("Alice", "order 1042, refund question", sessionId), (received.FromAgent, received.Note, received.SessionId));
        Assert.Single((await bob.GetSnapshotAsync()).Invitations);

        var joined = await bob.AcceptInvitationAsync(chat.ChannelId);
        Assert.Equal([(EventTypes.Joined, "Alice"), (EventTypes.Joined, "Bob")], joined.Events.Select(e => (e.Type, e.From.Name)));
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        var channel = _client.GetGrain<IChannelGrain>(chat.ChannelId);
        var seenByCustomer = await channel.GetEventsAsync(new MemberRef(Roles.Customer, sessionId.ToString(), "Dana"), 0);
        Assert.Contains(seenByCustomer, e => e is { Type: EventTypes.Joined, Text: "Bob joined the chat." });
        Assert.Empty((await bob.GetSnapshotAsync()).Invitations);
        Assert.Contains(chat.ChannelId, (await bob.GetSnapshotAsync()).Chats.Select(c => c.ChannelId));

        // Both agents talk in the same channel; Alice leaves it to Bob, who as the last agent cannot just leave.
        await channel.PostMessageAsync(new MemberRef(Roles.Agent, bobId, "Bob"), "Hi, I handle refunds.", "b1");
        await alice.LeaveChatAsync(chat.ChannelId);
        Assert.Empty((await alice.GetSnapshotAsync()).Chats);
        var last = await Assert.ThrowsAsync<SupportGridException>(() => bob.LeaveChatAsync(chat.ChannelId));
        Assert.Equal(ErrorCodes.InvalidState, last.Code);
        Assert.Equal(SessionStatus.Connected, await customer.GetStatusAsync());

        await customer.EndAsync();
        await Eventually.HoldsAsync(async () => (await bob.GetSnapshotAsync()).Chats.Count == 0, "Bob's capacity is freed when the chat ends");
        SessionRecord? record = null;
        await Eventually.HoldsAsync(async () => (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(sessionId))?.Summary.Outcome is not null,
            "the record is closed");
        Assert.Equal([alice.GetPrimaryKeyString(), bobId], record!.Summary.Agents);
        Assert.Contains(record.Steps, s => s.Kind == StepKinds.Invited && s.AgentId == alice.GetPrimaryKeyString() && s.Detail == bobId);
    }

    [Fact]
    public async Task AnInvitationToAColleagueWhoIsAwayIsRefusedAndADeclineIsReportedToTheInviter()
    {
        var alice = await AgentAsync("Alice");
        var (_, chat) = await ChatWithAsync(alice);
        var away = await AgentAsync("Carol", AgentStatus.Away);
        var invitation = await alice.PrepareInvitationAsync(chat.ChannelId, null);
        var refused = await Assert.ThrowsAsync<SupportGridException>(() => away.ReceiveInvitationAsync(invitation));
        Assert.Equal(ErrorCodes.InvalidState, refused.Code);
        Assert.Contains("not available", refused.Message);

        var stranger = await AgentAsync("Dave");
        var notMine = await Assert.ThrowsAsync<SupportGridException>(() => stranger.PrepareInvitationAsync(chat.ChannelId, null));
        Assert.Equal(ErrorCodes.NotMember, notMine.Code);

        await stranger.ReceiveInvitationAsync(invitation);
        await stranger.DeclineInvitationAsync(chat.ChannelId);
        var closed = await _gateway.WaitForAsync(p => p.Kind == "invitation-closed" && p.AgentId == alice.GetPrimaryKeyString());
        Assert.Equal("Dave declined your invitation.", closed.Payload);
        var gone = await Assert.ThrowsAsync<SupportGridException>(() => stranger.AcceptInvitationAsync(chat.ChannelId));
        Assert.Equal(ErrorCodes.OfferNotFound, gone.Code);
    }
}
