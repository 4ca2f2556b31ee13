using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>The public protocol over real Kestrel with the real SignalR client.</summary>
public sealed class ChatHubTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>, IAsyncLifetime
{
    private readonly List<HubConnection> _connections = [];
    private readonly GatewayFixture.Slot _slot = gateway.NextSlot();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    private sealed record Agent(HubConnection Hub, Inbox<ChatOffer> Offers, Inbox<(Guid, ChannelEvent)> Messages, Inbox<(Guid, string)> Ended);

    private sealed record Customer(HubConnection Hub, Inbox<ChannelEvent> Messages, Inbox<string> Joined, Inbox<NavigateCommand> Navigations, Inbox<(string Reason, bool OfferMessage)> Ended);

    private Task<Agent> AgentAsync() => AgentAsync(_slot);

    private async Task<Agent> AgentAsync(GatewayFixture.Slot slot)
    {
        var hub = gateway.AgentConnection(await gateway.TokenAsync(slot.AgentId, slot.Password));
        _connections.Add(hub);
        var agent = new Agent(hub, hub.Inbox<ChatOffer>("Offer"), hub.Inbox<Guid, ChannelEvent>("Message"), hub.Inbox<Guid, string>("ChatEnded"));
        await hub.StartAsync();
        await hub.InvokeAsync("SetStatus", "available");
        return agent;
    }

    private async Task<Customer> CustomerAsync()
    {
        var hub = gateway.CustomerConnection();
        _connections.Add(hub);
        var customer = new Customer(hub, hub.Inbox<ChannelEvent>("Message"), hub.Inbox<string>("AgentJoined"),
            hub.Inbox<NavigateCommand>("Navigate"), hub.Inbox<string, bool>("ChatEnded"));
        await hub.StartAsync();
        return customer;
    }

    private StartChatInput Request(string name = "Dana", string? customerId = null, string? signature = null) =>
        new("demo", _slot.Queue, name, "555-0100", "dana@example.com", "http://127.0.0.1/demo/products/kettle.html", "Copper Kettle", customerId, signature);

    /// <summary>A customer in this test's queue, accepted by this test's agent.</summary>
    private async Task<(Agent Agent, Customer Customer, StartChatResult Start, AcceptResult Accepted)> ConnectedChatAsync()
    {
        var agent = await AgentAsync();
        var customer = await CustomerAsync();
        var start = await customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request());
        await agent.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await agent.Hub.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await customer.Joined.WaitAsync();
        return (agent, customer, start, accepted);
    }

    [Fact]
    public async Task CustomerAndAgentCompleteAChat()
    {
        var agent = await AgentAsync();
        var customer = await CustomerAsync();

        var start = await customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request());
        Assert.True(start.Position >= 1);
        Assert.StartsWith(start.SessionId.ToString("N") + ".", start.ResumeToken);

        var offer = await agent.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        Assert.Equal(("Dana", "555-0100", "demo/" + _slot.Queue), (offer.Customer.Name, offer.Customer.Phone, offer.Queue));
        Assert.Equal("127.0.0.1", offer.Customer.Ip);
        Assert.Equal("Copper Kettle", offer.PageTitle);

        var accepted = await agent.Hub.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        Assert.Equal(_slot.AgentName, await customer.Joined.WaitAsync());
        Assert.Equal(EventTypes.Joined, (await customer.Messages.WaitAsync(e => e.Seq == 1)).Type);

        var sent = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "Is the kettle in stock?", "c-1");
        var atAgent = await agent.Messages.WaitAsync(m => m.Item2.Seq == sent.Seq);
        Assert.Equal((accepted.ChannelId, "Is the kettle in stock?", Roles.Customer), (atAgent.Item1, atAgent.Item2.Text, atAgent.Item2.From.Role));

        var reply = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Yes, three left.", "a-1");
        var atCustomer = await customer.Messages.WaitAsync(e => e.Seq == reply.Seq);
        Assert.Equal(("Yes, three left.", _slot.AgentName), (atCustomer.Text, atCustomer.From.Name));

        var target = new Uri(gateway.BaseAddress, "/demo/products/toaster.html").AbsoluteUri;
        var navigation = await agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, target);
        var pushed = await customer.Navigations.WaitAsync();
        Assert.Equal((target, navigation.Seq, true), (pushed.Url, pushed.Seq, pushed.Follow));

        await agent.Hub.InvokeAsync("EndChat", accepted.ChannelId);
        var ended = await customer.Ended.WaitAsync();
        Assert.Contains($"{_slot.AgentName} ended the chat", ended.Reason);
        Assert.False(ended.OfferMessage);
        Assert.Equal(accepted.ChannelId, (await agent.Ended.WaitAsync()).Item1);
        var late = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<SendResult>("SendMessage", "hello?", "c-2"));
        Assert.Contains(ErrorCodes.ChannelEnded, late.Message);
    }

    [Fact]
    public async Task NavigationOutsideTheSitesOriginsIsOnlySuggested()
    {
        var (agent, customer, _, accepted) = await ConnectedChatAsync();

        await agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, "https://elsewhere.example/sale");

        var pushed = await customer.Navigations.WaitAsync();
        Assert.Equal(("https://elsewhere.example/sale", false), (pushed.Url, pushed.Follow));
    }

    [Fact]
    public async Task AReconnectingCustomerGetsExactlyTheEventsItMissed()
    {
        var (agent, customer, start, accepted) = await ConnectedChatAsync();
        var seen = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "before the tunnel", "c-1");
        await agent.Messages.WaitAsync(m => m.Item2.Seq == seen.Seq);
        await customer.Hub.StopAsync();

        var missed1 = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Are you there?", "a-1");
        var missed2 = await agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, new Uri(gateway.BaseAddress, "/demo/checkout.html").AbsoluteUri);

        var again = await CustomerAsync();
        var resumed = await again.Hub.InvokeAsync<ResumeResult>("Resume", start.ResumeToken, seen.Seq);
        Assert.Equal(SessionStatus.Connected, resumed.Status);
        Assert.Equal(_slot.AgentName, resumed.AgentName);
        Assert.Equal([missed1.Seq, missed2.Seq], resumed.Events.Select(e => e.Seq));
        Assert.Equal(seen.Seq + 1, missed1.Seq);

        var live = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Welcome back", "a-2");
        Assert.Equal("Welcome back", (await again.Messages.WaitAsync(e => e.Seq == live.Seq)).Text);
        var mine = await again.Hub.InvokeAsync<SendResult>("SendMessage", "Thanks", "c-2");
        Assert.Equal(live.Seq + 1, mine.Seq);
    }

    [Fact]
    public async Task ACustomerWhoReloadsWhileQueuedKeepsTheirPlaceAndMeetsTheAgent()
    {
        var customer = await CustomerAsync();
        var start = await customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request());
        await customer.Hub.StopAsync();

        var reloaded = await CustomerAsync();
        var resumed = await reloaded.Hub.InvokeAsync<ResumeResult>("Resume", start.ResumeToken, 0L);
        Assert.Equal((SessionStatus.Queued, start.Position), (resumed.Status, resumed.Position));
        Assert.Empty(resumed.Events);

        var agent = await AgentAsync();
        var offer = await agent.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await agent.Hub.InvokeAsync<AcceptResult>("AcceptOffer", offer.SessionId);
        Assert.Equal(_slot.AgentName, await reloaded.Joined.WaitAsync());
        var hello = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Thanks for waiting", "a-1");
        Assert.Equal("Thanks for waiting", (await reloaded.Messages.WaitAsync(e => e.Seq == hello.Seq)).Text);
    }

    [Fact]
    public async Task AnAgentTransfersAChatToAColleagueWhoSeesTheNoteAndTheHistory()
    {
        var (first, customer, _, accepted) = await ConnectedChatAsync();
        await customer.Hub.InvokeAsync<SendResult>("SendMessage", "My order never came", "c-1");
        var colleagueSlot = gateway.NextSlot();
        var colleague = await AgentAsync(colleagueSlot);
        var left = first.Hub.Inbox<Guid, string>("ChatLeft");

        var targets = await first.Hub.InvokeAsync<TransferTargets>("GetTransferTargets");
        Assert.Contains("demo/" + colleagueSlot.Queue, targets.Queues);
        Assert.Contains(targets.Agents, a => a.AgentId == colleagueSlot.AgentId && a.Status == AgentStatus.Available);
        await first.Hub.InvokeAsync("TransferChat", accepted.ChannelId, new TransferInput(null, colleagueSlot.AgentId, "lost parcel, order 1042"));

        Assert.Equal(accepted.ChannelId, (await left.WaitAsync()).Item1);
        // Waiting in the chat for the next agent, the customer has nobody to write to yet (as while waiting in a queue).
        var waiting = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<SendResult>("SendMessage", "anyone there?", "c-9"));
        Assert.Contains(ErrorCodes.InvalidState + ": No agent has joined yet", waiting.Message);
        var offer = await colleague.Offers.WaitAsync();
        Assert.Equal((_slot.AgentName, "lost parcel, order 1042"), (offer.Transfer!.FromAgent, offer.Transfer.Note));
        var taken = await colleague.Hub.InvokeAsync<AcceptResult>("AcceptOffer", offer.SessionId);
        Assert.Equal(accepted.ChannelId, taken.ChannelId);
        Assert.Contains(taken.Events, e => e.Text == "My order never came");
        Assert.Equal(colleagueSlot.AgentName, await customer.Joined.WaitAsync(name => name == colleagueSlot.AgentName));
        var reply = await colleague.Hub.InvokeAsync<SendResult>("SendMessage", taken.ChannelId, "I'm on it.", "b-1");
        Assert.Equal("I'm on it.", (await customer.Messages.WaitAsync(e => e.Seq == reply.Seq)).Text);

        var refused = await Assert.ThrowsAsync<HubException>(() => first.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "me again", "a-9"));
        Assert.Contains(ErrorCodes.NotMember, refused.Message);
        var both = await Assert.ThrowsAsync<HubException>(() => colleague.Hub.InvokeAsync("TransferChat", taken.ChannelId, new TransferInput("demo/sales", "bob", null)));
        Assert.Contains("exactly one of toQueue or toAgent", both.Message);
    }

    [Fact]
    public async Task AnInvitedColleagueJoinsTheChatAndTheFirstAgentLeavesItToThem()
    {
        var (first, customer, _, accepted) = await ConnectedChatAsync();
        var colleagueSlot = gateway.NextSlot();
        var colleague = await AgentAsync(colleagueSlot);
        var invitations = colleague.Hub.Inbox<ChatInvitation>("Invitation");
        var left = first.Hub.Inbox<Guid, string>("ChatLeft");

        var unknown = await Assert.ThrowsAsync<HubException>(() => first.Hub.InvokeAsync("InviteColleague", accepted.ChannelId, new InviteInput("nobody", null)));
        Assert.Contains(ErrorCodes.InvalidInput, unknown.Message);
        await first.Hub.InvokeAsync("InviteColleague", accepted.ChannelId, new InviteInput(colleagueSlot.AgentId, "needs a refund"));
        var invitation = await invitations.WaitAsync();
        Assert.Equal((accepted.ChannelId, _slot.AgentName, "needs a refund"), (invitation.ChannelId, invitation.FromAgent, invitation.Note));

        var joined = await colleague.Hub.InvokeAsync<AcceptResult>("AcceptInvitation", accepted.ChannelId);
        Assert.Equal(accepted.ChannelId, joined.ChannelId);
        var seen = await customer.Messages.WaitAsync(e => e.Type == EventTypes.Joined && e.From.Name == colleagueSlot.AgentName);
        Assert.Equal($"{colleagueSlot.AgentName} joined the chat.", seen.Text);
        var fromColleague = await colleague.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Refunds here.", "b-1");
        Assert.Equal("Refunds here.", (await first.Messages.WaitAsync(m => m.Item2.Seq == fromColleague.Seq)).Item2.Text);

        await first.Hub.InvokeAsync("LeaveChat", accepted.ChannelId);
        Assert.Equal(accepted.ChannelId, (await left.WaitAsync()).Item1);
        var last = await Assert.ThrowsAsync<HubException>(() => colleague.Hub.InvokeAsync("LeaveChat", accepted.ChannelId));
        Assert.Contains("end it or transfer it", last.Message);
        var fromCustomer = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "Thanks", "c-1");
        Assert.Equal("Thanks", (await colleague.Messages.WaitAsync(m => m.Item2.Seq == fromCustomer.Seq)).Item2.Text);
    }

    [Fact]
    public async Task MessagesSentTheMomentAChatStartsReachTheOtherSideOnceWithoutAskingAgain()
    {
        // The gateway's new subscription to the chat's stream receives only once the silo's pulling agent has taken it on;
        // nobody waits for that, so what is sent meanwhile must reach the members by the gateway's catch-up. This client
        // never fills gaps itself (no GetEvents, no Resume): each message has to arrive as a push or in an answer, once.
        var agent = await AgentAsync();
        var customer = await CustomerAsync();
        var start = await customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request());
        await agent.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepting = agent.Hub.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await customer.Joined.WaitAsync();
        var customerAnswers = new List<SendResult>();
        for (var i = 0; i < 5; i++)
            customerAnswers.Add(await customer.Hub.InvokeAsync<SendResult>("SendMessage", $"customer {i}", $"c-{i}"));
        var accepted = await accepting;
        var agentAnswers = new List<SendResult>();
        for (var i = 0; i < 5; i++)
            agentAnswers.Add(await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, $"agent {i}", $"a-{i}"));
        var fromCustomer = customerAnswers.Select(a => a.Seq).ToList();
        var fromAgent = agentAnswers.Select(a => a.Seq).ToList();
        // Each sender has its own message, as stored, in the answer.
        Assert.All(customerAnswers.Concat(agentAnswers), a => Assert.Equal((a.Seq, EventTypes.Message), (a.Event!.Seq, a.Event.Type)));
        Assert.Equal(Enumerable.Range(0, 5).Select(i => $"customer {i}"), customerAnswers.Select(a => a.Event!.Text));

        var inAnswer = accepted.Events.Select(e => e.Seq).ToHashSet();
        foreach (var seq in fromCustomer.Where(s => !inAnswer.Contains(s)))
            await agent.Messages.WaitAsync(m => m.Item1 == accepted.ChannelId && m.Item2.Seq == seq);
        foreach (var seq in fromAgent)
            await customer.Messages.WaitAsync(m => m.Seq == seq);
        // A last message each way: pushes keep their order, so a second copy of an earlier one would have come by now.
        var all = fromCustomer.Concat(fromAgent).ToList();
        var lastToAgent = (await customer.Hub.InvokeAsync<SendResult>("SendMessage", "last", "c-last")).Seq;
        var lastToCustomer = (await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "last", "a-last")).Seq;
        await agent.Messages.WaitAsync(m => m.Item2.Seq == lastToAgent);
        await customer.Messages.WaitAsync(m => m.Seq == lastToCustomer);
        // A sender's own message comes back as a push only when the stream's copy went out before the hub call's (then
        // once); and one push of a message that was also in AcceptOffer's answer is by design (the agent subscribed
        // before that read).
        await TakeOwnPushesAsync(agent, fromAgent, customer, fromCustomer);
        foreach (var seq in all.Where(inAnswer.Contains))
            if (agent.Messages.Received(m => m.Item2.Seq == seq))
                await agent.Messages.WaitAsync(m => m.Item2.Seq == seq);
        Assert.False(agent.Messages.Received(m => all.Contains(m.Item2.Seq)), $"a message reached the agent twice: {agent.Messages.Describe()}");
        Assert.False(customer.Messages.Received(m => all.Contains(m.Seq)), $"a message reached the customer twice: {customer.Messages.Describe()}");
    }

    [Fact]
    public async Task MessagesBetweenMembersOnOneGatewayArriveOnceWhicheverWayComesFirst()
    {
        // A message posted through this gateway is sent to the chat's members here either from the hub call (path=direct
        // of supportgrid.gateway.relay_duration) or from the stream, whichever is first; the other copy is skipped. On a
        // quiet machine the stream often wins, under load the hub call does (docs/benchmarks.md): each message once either way.
        var (agent, customer, _, accepted) = await ConnectedChatAsync();
        var fromCustomer = new List<long>();
        var fromAgent = new List<long>();
        for (var i = 0; i < 10; i++)
        {
            fromCustomer.Add((await customer.Hub.InvokeAsync<SendResult>("SendMessage", $"to agent {i}", $"c-d{i}")).Seq);
            fromAgent.Add((await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, $"to customer {i}", $"a-d{i}")).Seq);
        }
        // Each member gets the other's messages pushed; its own it has in the answer, and as a push only when the stream's
        // copy went out first (the sending connection is left out of the hub call's), so at most once.
        foreach (var seq in fromCustomer)
            await agent.Messages.WaitAsync(m => m.Item2.Seq == seq);
        foreach (var seq in fromAgent)
            await customer.Messages.WaitAsync(m => m.Seq == seq);
        var lastToAgent = (await customer.Hub.InvokeAsync<SendResult>("SendMessage", "last", "c-dlast")).Seq;
        var lastToCustomer = (await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "last", "a-dlast")).Seq;
        await agent.Messages.WaitAsync(m => m.Item2.Seq == lastToAgent);
        await customer.Messages.WaitAsync(m => m.Seq == lastToCustomer);
        // Pushes to one connection keep their order: a second copy of an earlier message would have come by now. (The
        // last two are the other side's; a sender's own last may still be on its way.)
        var sent = fromCustomer.Concat(fromAgent).ToList();
        await TakeOwnPushesAsync(agent, fromAgent, customer, fromCustomer);
        Assert.False(agent.Messages.Received(m => sent.Append(lastToAgent).Contains(m.Item2.Seq)), $"a message reached the agent twice: {agent.Messages.Describe()}");
        Assert.False(customer.Messages.Received(m => sent.Append(lastToCustomer).Contains(m.Seq)), $"a message reached the customer twice: {customer.Messages.Describe()}");
    }

    [Fact]
    public async Task TheSendingTabHasItsMessageInTheAnswerAndTheShoppersOtherTabGetsItPushed()
    {
        var (agent, customer, start, accepted) = await ConnectedChatAsync();
        var otherTab = await CustomerAsync();
        await otherTab.Hub.InvokeAsync<ResumeResult>("Resume", start.ResumeToken, 0L);
        // A first message through, so that this gateway has sent the chat's events so far and the hub call's own send is
        // in play (the chat's opening event is never published; until a first event has gone out, the stream sends).
        var hello = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "hello", "a-hello");
        await customer.Messages.WaitAsync(m => m.Seq == hello.Seq);
        await otherTab.Messages.WaitAsync(m => m.Seq == hello.Seq);

        var sent = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "is the kettle copper?", "tab-1");

        Assert.Equal((sent.Seq, EventTypes.Message, "is the kettle copper?", Roles.Customer), (sent.Event!.Seq, sent.Event.Type, sent.Event.Text, sent.Event.From.Role));
        // The shopper's other tab and the agent get it as a push; the sending tab has it in the answer (and as a push
        // only when the stream's copy went out before the hub call's).
        Assert.Equal("is the kettle copper?", (await otherTab.Messages.WaitAsync(m => m.Seq == sent.Seq)).Text);
        await agent.Messages.WaitAsync(m => m.Item1 == accepted.ChannelId && m.Item2.Seq == sent.Seq);
        var answer = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "yes, solid copper", "a-tab");
        Assert.Equal("yes, solid copper", answer.Event!.Text);
        await otherTab.Messages.WaitAsync(m => m.Seq == answer.Seq);
        await customer.Messages.WaitAsync(m => m.Seq == answer.Seq);
        // Pushes to one connection keep their order: anything of the earlier message has come by now, at most once each.
        if (customer.Messages.Received(m => m.Seq == sent.Seq))
            await customer.Messages.WaitAsync(m => m.Seq == sent.Seq);
        Assert.False(customer.Messages.Received(m => m.Seq == sent.Seq), $"the sending tab got its message twice: {customer.Messages.Describe()}");
        Assert.False(otherTab.Messages.Received(m => m.Seq == sent.Seq), $"the other tab got the message twice: {otherTab.Messages.Describe()}");
    }

    /// <summary>Takes from each inbox the push of a member's own message, where there was one (the stream's copy went out
    /// before the hub call's), so that what is left shows a second copy.</summary>
    private static async Task TakeOwnPushesAsync(Agent agent, IEnumerable<long> fromAgent, Customer customer, IEnumerable<long> fromCustomer)
    {
        foreach (var seq in fromAgent)
            if (agent.Messages.Received(m => m.Item2.Seq == seq))
                await agent.Messages.WaitAsync(m => m.Item2.Seq == seq);
        foreach (var seq in fromCustomer)
            if (customer.Messages.Received(m => m.Seq == seq))
                await customer.Messages.WaitAsync(m => m.Seq == seq);
    }

    [Fact]
    public async Task ARetriedSendIsStoredOnce()
    {
        var (_, customer, _, _) = await ConnectedChatAsync();
        var first = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "once", "same-id");
        var retry = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "once", "same-id");
        var next = await customer.Hub.InvokeAsync<SendResult>("SendMessage", "twice", "other-id");
        Assert.Equal(first.Seq, retry.Seq);
        Assert.Equal(first.Seq + 1, next.Seq);
    }

    [Fact]
    public async Task ACustomerCannotActOnAnotherCustomersSession()
    {
        var (_, victim, victimStart, _) = await ConnectedChatAsync();
        var attacker = await CustomerAsync();

        var noSession = await Assert.ThrowsAsync<HubException>(() => attacker.Hub.InvokeAsync<SendResult>("SendMessage", "hi", "x-1"));
        Assert.Contains(ErrorCodes.UnknownSession, noSession.Message);

        var ownStart = await attacker.Hub.InvokeAsync<StartChatResult>("StartChat", Request(name: "Mallory"));
        var forged = victimStart.SessionId.ToString("N") + "." + ownStart.ResumeToken.Split('.')[1];
        var intruder = await CustomerAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => intruder.Hub.InvokeAsync<ResumeResult>("Resume", forged, 0L));
        Assert.Contains(ErrorCodes.InvalidToken, refused.Message);
        var garbage = await Assert.ThrowsAsync<HubException>(() => intruder.Hub.InvokeAsync<ResumeResult>("Resume", "not-a-token", 0L));
        Assert.Contains(ErrorCodes.InvalidToken, garbage.Message);

        // The attacker's own connection is bound to its own session and cannot switch to the victim's.
        var switching = await Assert.ThrowsAsync<HubException>(() => attacker.Hub.InvokeAsync<ResumeResult>("Resume", victimStart.ResumeToken, 0L));
        Assert.Contains(ErrorCodes.InvalidState, switching.Message);
        var status = await victim.Hub.InvokeAsync<SendResult>("SendMessage", "still mine", "v-1");
        Assert.True(status.Seq > 0);
    }

    [Fact]
    public async Task AnAgentCannotActOnAChannelTheyAreNotIn()
    {
        var (agent, _, _, accepted) = await ConnectedChatAsync();
        var bob = await AgentAsync(gateway.NextSlot());

        var send = await Assert.ThrowsAsync<HubException>(() => bob.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "hijack", "b-1"));
        Assert.Contains(ErrorCodes.NotMember, send.Message);
        var read = await Assert.ThrowsAsync<HubException>(() => bob.Hub.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", accepted.ChannelId, 0L));
        Assert.Contains(ErrorCodes.NotMember, read.Message);
        // Nor end it, nor leave it (the two methods the hub fuzzing leaves out, since they would end its own chat).
        foreach (var method in new[] { "EndChat", "LeaveChat" })
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => bob.Hub.InvokeAsync(method, accepted.ChannelId));
            Assert.Contains(ErrorCodes.NotMember, refused.Message);
        }
        var events = await agent.Hub.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", accepted.ChannelId, 0L);
        Assert.DoesNotContain(events, e => e.Type == EventTypes.Ended);
    }

    [Fact]
    public async Task AJavascriptUrlIsRefusedAndNeverStored()
    {
        var (agent, customer, _, accepted) = await ConnectedChatAsync();
        var before = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Let me show you", "a-1");

        var refused = await Assert.ThrowsAsync<HubException>(() => agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, "javascript:alert(document.cookie)"));
        Assert.Contains(ErrorCodes.InvalidUrl, refused.Message);
        Assert.Contains("javascript", refused.Message);

        var after = await agent.Hub.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "Here", "a-2");
        Assert.Equal(before.Seq + 1, after.Seq);
        var events = await agent.Hub.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", accepted.ChannelId, 0L);
        Assert.DoesNotContain(events, e => e.Type == EventTypes.Navigate);
    }

    [Fact]
    public async Task AMessageTooLongIsRefusedWithItsReason()
    {
        var (_, customer, _, _) = await ConnectedChatAsync();
        var error = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<SendResult>("SendMessage", new string('x', InputRules.MaxMessageLength + 1), "long"));
        Assert.Contains(ErrorCodes.MessageTooLong, error.Message);
    }

    [Fact]
    public async Task BadStartRequestsAreRefusedWithTheirReason()
    {
        var customer = await CustomerAsync();
        var site = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request() with { Site = "nope" }));
        Assert.Contains("Unknown site", site.Message);
        var name = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request(name: " ")));
        Assert.Contains("name", name.Message);
        var url = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<StartChatResult>("StartChat", Request() with { PageUrl = "file:///etc/passwd" }));
        Assert.Contains(ErrorCodes.InvalidUrl, url.Message);
    }

    private static string Sign(string text) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(GatewayFixture.IdentitySecret), Encoding.UTF8.GetBytes(text)));

    [Theory]
    [InlineData("cust-42", null, "cust-42", true, null)]           // signed id
    [InlineData("cust-43", null, "cust-42", false, null)]          // signature of another id
    [InlineData("cust-44", null, null, false, null)]               // no signature at all
    [InlineData("cust-45", "vip", "cust-45|vip", true, "vip")]     // signed id and tier
    [InlineData("cust-46", "vip", "cust-46", false, null)]         // tier added to a signature that does not cover it
    public async Task OnlyACorrectlySignedCustomerIdIsVerifiedAndOnlyAVerifiedOneCarriesATier(
        string customerId, string? tier, string? signedText, bool verified, string? keptTier)
    {
        var agent = await AgentAsync();
        var customer = await CustomerAsync();
        var start = await customer.Hub.InvokeAsync<StartChatResult>("StartChat",
            Request(customerId: customerId, signature: signedText is null ? null : Sign(signedText)) with { CustomerTier = tier });

        var offer = await agent.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        Assert.Equal((customerId, verified, keptTier), (offer.Customer.CustomerId, offer.Customer.CustomerIdVerified, offer.Customer.Tier));
    }

    [Fact]
    public async Task AnUnauthenticatedConnectionToTheAgentHubIsRefused()
    {
        var anonymous = gateway.AgentConnection(null);
        _connections.Add(anonymous);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, error.StatusCode);

        var forged = gateway.AgentConnection(ForgedToken());
        _connections.Add(forged);
        var forgedError = await Assert.ThrowsAsync<HttpRequestException>(() => forged.StartAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, forgedError.StatusCode);
    }

    [Fact]
    public async Task AWrongPasswordGetsAProblemDetailsWithTheReason()
    {
        using var http = gateway.Http();
        var response = await http.PostAsync("/api/auth/token", new StringContent("{\"username\":\"alice\",\"password\":\"nope\"}", Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Contains("wrong password", await response.Content.ReadAsStringAsync());
    }

    /// <summary>A well-formed HS256 token for alice signed with a key the gateway does not know.</summary>
    private static string ForgedToken()
    {
        static string B64(byte[] b) => Convert.ToBase64String(b).TrimEnd('=').Replace('+', '-').Replace('/', '_');
        var header = B64(Encoding.UTF8.GetBytes("{\"alg\":\"HS256\",\"typ\":\"JWT\"}"));
        var exp = DateTimeOffset.UtcNow.AddHours(1).ToUnixTimeSeconds();
        var payload = B64(Encoding.UTF8.GetBytes($"{{\"sub\":\"alice\",\"name\":\"Alice\",\"iss\":\"supportgrid\",\"aud\":\"supportgrid-agents\",\"exp\":{exp}}}"));
        var signature = B64(HMACSHA256.HashData(RandomNumberGenerator.GetBytes(32), Encoding.UTF8.GetBytes(header + "." + payload)));
        return $"{header}.{payload}.{signature}";
    }
}
