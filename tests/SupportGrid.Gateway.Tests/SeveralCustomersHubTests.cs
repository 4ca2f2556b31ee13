using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Orleans;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>Several customers in one chat over the public protocol: join codes, navigation for all or one, page reports, leaving.</summary>
public sealed class SeveralCustomersHubTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>, IAsyncLifetime
{
    private readonly List<HubConnection> _connections = [];
    private readonly GatewayFixture.Slot _slot = gateway.NextSlot();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    private sealed record Agent(HubConnection Hub, Inbox<(Guid, ChannelEvent)> Messages, Inbox<(Guid, CustomerPresence)> Pages);

    private sealed record Customer(HubConnection Hub, Inbox<ChannelEvent> Messages, Inbox<NavigateCommand> Navigations, Inbox<(string Reason, bool OfferMessage)> Ended);

    private sealed record Group(Agent Agent, Guid ChannelId, JoinCode Code, (Customer Hub, Guid SessionId) First, string FirstResumeToken);

    private string Page(string path) => new Uri(gateway.BaseAddress, path).AbsoluteUri;

    private async Task<Customer> CustomerAsync()
    {
        var hub = gateway.CustomerConnection();
        _connections.Add(hub);
        var customer = new Customer(hub, hub.Inbox<ChannelEvent>("Message"), hub.Inbox<NavigateCommand>("Navigate"), hub.Inbox<string, bool>("ChatEnded"));
        await hub.StartAsync();
        return customer;
    }

    /// <summary>This test's agent in a chat with a customer from the queue, and a join code for it.</summary>
    private async Task<Group> GroupAsync()
    {
        var hub = gateway.AgentConnection(await gateway.TokenAsync(_slot.AgentId, _slot.Password));
        _connections.Add(hub);
        var agent = new Agent(hub, hub.Inbox<Guid, ChannelEvent>("Message"), hub.Inbox<Guid, CustomerPresence>("CustomerPage"));
        var offers = hub.Inbox<ChatOffer>("Offer");
        await hub.StartAsync();
        await hub.InvokeAsync("SetStatus", "available");
        var first = await CustomerAsync();
        var joined = first.Hub.Inbox<string>("AgentJoined");
        var start = await first.Hub.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Dana", null, null, Page("/demo/products/kettle.html"), "Kettle", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await hub.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await joined.WaitAsync();
        var code = await hub.InvokeAsync<JoinCode>("CreateJoinCode", accepted.ChannelId);
        return new Group(agent, accepted.ChannelId, code, (first, start.SessionId), start.ResumeToken);
    }

    private async Task<(Customer Hub, JoinChatResult Result)> JoinAsync(string code, string name)
    {
        var customer = await CustomerAsync();
        var result = await customer.Hub.InvokeAsync<JoinChatResult>("JoinChat",
            new JoinChatInput("demo", code, name, Page("/demo/products/kettle.html?sg-join=" + code), "Kettle"));
        return (customer, result);
    }

    [Fact]
    public async Task OneBroadcastMovesEveryCustomerOfTheChatAndTheAgentSeesEachOneFollow()
    {
        var group = await GroupAsync();
        Assert.Equal(Page("/demo/products/kettle.html") + "?sg-join=" + group.Code.Code, group.Code.Url);
        var (eve, eveJoin) = await JoinAsync(group.Code.Code, "Eve");
        var (finn, finnJoin) = await JoinAsync(group.Code.Code, "Finn");
        Assert.Equal((group.ChannelId, _slot.AgentName), (eveJoin.ChannelId, eveJoin.AgentName));
        Assert.NotEqual(eveJoin.SessionId, finnJoin.SessionId);
        Assert.Contains(finnJoin.Events, e => e.Text == "Eve joined the chat.");

        var target = Page("/demo/products/toaster.html");
        var sent = await group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", group.ChannelId, target);
        var everyone = new[] { (group.First.Hub, group.First.SessionId), (eve, eveJoin.SessionId), (finn, finnJoin.SessionId) };
        foreach (var (customer, _) in everyone)
        {
            var pushed = await customer.Navigations.WaitAsync();
            Assert.Equal((target, sent.Seq, true), (pushed.Url, pushed.Seq, pushed.Follow));
            // The broadcast's event rides with the command: one frame per customer, no Message push of it (checked below).
            Assert.Equal((sent.Seq, EventTypes.Navigate, target, (string?)null), (pushed.Event!.Seq, pushed.Event.Type, pushed.Event.Url, pushed.Event.To));
            await customer.Hub.InvokeAsync("ReportPage", new PageReportInput(target, "Toaster", sent.Seq, true));
        }
        foreach (var (_, sessionId) in everyone)
        {
            var (channelId, page) = await group.Agent.Pages.WaitAsync(p => p.Item2.SessionId == sessionId && p.Item2.Navigation == NavigationStatus.Followed);
            Assert.Equal((group.ChannelId, target, "Toaster", sent.Seq), (channelId, page.PageUrl, page.PageTitle, page.NavigateSeq));
        }
        var customers = await group.Agent.Hub.InvokeAsync<List<CustomerPresence>>("GetCustomers", group.ChannelId);
        Assert.Equal(everyone.Select(c => c.SessionId).Order(), customers.Select(c => c.SessionId).Order());
        Assert.All(customers, c => Assert.Equal(NavigationStatus.Followed, c.Navigation));

        // Messages reach every customer; a customer's own message names them, so the others can tell who wrote.
        var said = await eve.Hub.InvokeAsync<SendResult>("SendMessage", "Can we see the blue one?", "e-1");
        var atFinn = await finn.Messages.WaitAsync(e => e.Seq == said.Seq);
        Assert.Equal(new Participant(Roles.Customer, "Eve", eveJoin.SessionId.ToString()), atFinn.From);
        await group.First.Hub.Messages.WaitAsync(e => e.Seq == said.Seq);
        await group.Agent.Messages.WaitAsync(m => m.Item2.Seq == said.Seq);
        Assert.False(finn.Messages.Received(e => e.Seq == sent.Seq) || group.First.Hub.Messages.Received(e => e.Seq == sent.Seq),
            "a customer got the broadcast's navigate event twice (in the command and as a Message)");
        Assert.True(group.Agent.Messages.Received(m => m.Item2.Seq == sent.Seq), "the agent's console logs the navigate event");

        // A reload: the joined customer resumes the same session with its token.
        await eve.Hub.StopAsync();
        var again = await CustomerAsync();
        var resumed = await again.Hub.InvokeAsync<ResumeResult>("Resume", eveJoin.ResumeToken, said.Seq);
        Assert.Equal((eveJoin.SessionId, SessionStatus.Connected, group.ChannelId), (resumed.SessionId, resumed.Status, resumed.ChannelId));
        var hello = await group.Agent.Hub.InvokeAsync<SendResult>("SendMessage", group.ChannelId, "Here it is.", "a-1");
        Assert.Equal("Here it is.", (await again.Messages.WaitAsync(e => e.Seq == hello.Seq)).Text);
    }

    [Fact]
    public async Task NavigateCustomerMovesOnlyThatCustomerAndNonHttpTargetsAreRefused()
    {
        var group = await GroupAsync();
        var (eve, eveJoin) = await JoinAsync(group.Code.Code, "Eve");

        var one = await group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomer", group.ChannelId, eveJoin.SessionId, Page("/demo/checkout.html"));
        var toEve = await eve.Navigations.WaitAsync();
        Assert.Equal((one.Seq, (ChannelEvent?)null), (toEve.Seq, toEve.Event)); // everyone logs this one: it comes as a Message
        Assert.Equal(one.Seq, (await eve.Messages.WaitAsync(e => e.Seq == one.Seq)).Seq);
        var all = await group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", group.ChannelId, Page("/demo/index.html"));
        // The first navigation the first customer is told of is the broadcast: the one for Eve never reached them.
        Assert.Equal(all.Seq, (await group.First.Hub.Navigations.WaitAsync()).Seq);
        Assert.Equal(all.Seq, (await eve.Navigations.WaitAsync()).Seq);
        var navigateEvent = await group.First.Hub.Messages.WaitAsync(e => e.Seq == one.Seq);
        Assert.Equal(eveJoin.SessionId.ToString(), navigateEvent.To);

        foreach (var bad in new[] { "javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd" })
        {
            var refused = await Assert.ThrowsAsync<HubException>(() =>
                group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomer", group.ChannelId, eveJoin.SessionId, bad));
            Assert.Contains(ErrorCodes.InvalidUrl, refused.Message);
        }
        var stranger = await Assert.ThrowsAsync<HubException>(() =>
            group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomer", group.ChannelId, Guid.NewGuid(), Page("/demo/")));
        Assert.Contains(ErrorCodes.NotMember, stranger.Message);
    }

    [Fact]
    public async Task AWaitingCustomerAcceptedIntoTheAgentsChatJoinsItAndHearsEveryone()
    {
        var group = await GroupAsync();
        var offers = group.Agent.Hub.Inbox<ChatOffer>("Offer");
        var eve = await CustomerAsync();
        var joined = eve.Hub.Inbox<string>("AgentJoined");
        var start = await eve.Hub.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Eve", null, null, Page("/demo/products/toaster.html"), "Toaster", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);

        var stranger = await Assert.ThrowsAsync<HubException>(() =>
            group.Agent.Hub.InvokeAsync<AcceptResult>("AcceptOfferInto", start.SessionId, Guid.NewGuid()));
        Assert.Contains(ErrorCodes.NotMember, stranger.Message);
        var into = await group.Agent.Hub.InvokeAsync<AcceptResult>("AcceptOfferInto", start.SessionId, group.ChannelId);
        Assert.Equal((group.ChannelId, start.SessionId), (into.ChannelId, into.SessionId));
        Assert.Contains(into.Events, e => e.Text == "Eve joined the chat.");
        Assert.Equal(_slot.AgentName, await joined.WaitAsync());
        await group.First.Hub.Messages.WaitAsync(e => e.Text == "Eve joined the chat.");

        // Eve is now in the same chat: what she says reaches the first customer and the agent, and a broadcast moves her too.
        var said = await eve.Hub.InvokeAsync<SendResult>("SendMessage", "Is this the kettle chat?", "e-1");
        Assert.Equal(start.SessionId.ToString(), (await group.First.Hub.Messages.WaitAsync(e => e.Seq == said.Seq)).From.Id);
        await group.Agent.Messages.WaitAsync(m => m.Item1 == group.ChannelId && m.Item2.Seq == said.Seq);
        var sent = await group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", group.ChannelId, Page("/demo/checkout.html"));
        Assert.Equal(sent.Seq, (await eve.Navigations.WaitAsync()).Seq);
        var customers = await group.Agent.Hub.InvokeAsync<List<CustomerPresence>>("GetCustomers", group.ChannelId);
        Assert.Equal(new[] { group.First.SessionId, start.SessionId }.Order(), customers.Select(c => c.SessionId).Order());
    }

    [Fact]
    public async Task AnUnknownExpiredOrMalformedJoinCodeFailsWithAClearError()
    {
        var group = await GroupAsync();

        var unknown = await Assert.ThrowsAsync<HubException>(() => JoinAsync("22222-22223", "Eve"));
        Assert.Contains("invalid_code: This join code is not known.", unknown.Message);
        var malformed = await Assert.ThrowsAsync<HubException>(() => JoinAsync("<script>", "Eve"));
        Assert.Contains("invalid_code: That is not a join code", malformed.Message);

        var grains = gateway.Services.GetRequiredService<IGrainFactory>();
        var expired = "ZZZZZ" + new string(Enumerable.Range(0, 5).Select(_ => JoinCodes.Alphabet[Random.Shared.Next(JoinCodes.Alphabet.Length)]).ToArray());
        await grains.GetGrain<IJoinCodeGrain>(expired).RegisterAsync(
            new JoinCodeTarget(group.ChannelId, "demo", "demo/" + _slot.Queue, _slot.AgentId, _slot.AgentName), DateTimeOffset.UtcNow.AddMinutes(-1));
        var late = await Assert.ThrowsAsync<HubException>(() => JoinAsync(expired, "Eve"));
        Assert.Contains("invalid_code: This join code has expired.", late.Message);

        // The code works, but not twice on one connection, and not for an agent outside the chat.
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");
        var twice = await Assert.ThrowsAsync<HubException>(() => eve.Hub.InvokeAsync<JoinChatResult>("JoinChat",
            new JoinChatInput("demo", group.Code.Code, "Eve", Page("/demo/"), null)));
        Assert.Contains(ErrorCodes.InvalidState, twice.Message);
        var other = gateway.NextSlot();
        await using var outsider = gateway.AgentConnection(await gateway.TokenAsync(other.AgentId, other.Password));
        await outsider.StartAsync();
        var notMine = await Assert.ThrowsAsync<HubException>(() => outsider.InvokeAsync<JoinCode>("CreateJoinCode", group.ChannelId));
        Assert.Contains(ErrorCodes.NotMember, notMine.Message);
        var noPeeking = await Assert.ThrowsAsync<HubException>(() => outsider.InvokeAsync<List<CustomerPresence>>("GetCustomers", group.ChannelId));
        Assert.Contains(ErrorCodes.NotMember, noPeeking.Message);
    }

    [Fact]
    public async Task ACustomerWhoLeavesIsToldAndTheOthersChatOnUntilTheAgentEndsIt()
    {
        var group = await GroupAsync();
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");

        await eve.Hub.InvokeAsync("EndChat");
        Assert.Equal(("You left the chat.", false), await eve.Ended.WaitAsync());
        var left = await group.First.Hub.Messages.WaitAsync(e => e.Type == EventTypes.Left);
        Assert.Equal("Eve left the chat.", left.Text);
        await group.Agent.Messages.WaitAsync(m => m.Item2.Type == EventTypes.Left);

        var hello = await group.Agent.Hub.InvokeAsync<SendResult>("SendMessage", group.ChannelId, "Just us now.", "a-1");
        Assert.Equal("Just us now.", (await group.First.Hub.Messages.WaitAsync(e => e.Seq == hello.Seq)).Text);
        var gone = await Assert.ThrowsAsync<HubException>(() => eve.Hub.InvokeAsync<SendResult>("SendMessage", "wait", "e-1"));
        Assert.Contains(ErrorCodes.ChannelEnded, gone.Message);

        await group.Agent.Hub.InvokeAsync("EndChat", group.ChannelId);
        Assert.Contains($"{_slot.AgentName} ended the chat", (await group.First.Hub.Ended.WaitAsync()).Reason);
    }

    [Fact]
    public async Task ACustomerWhoLeftInOneTabIsToldTheChatEndedWhenWritingFromAnother()
    {
        var group = await GroupAsync();
        await JoinAsync(group.Code.Code, "Eve"); // the chat goes on without Dana
        var otherTab = await CustomerAsync();
        await otherTab.Hub.InvokeAsync<ResumeResult>("Resume", group.FirstResumeToken, 0L);

        await group.First.Hub.Hub.InvokeAsync("EndChat");
        await group.First.Hub.Ended.WaitAsync();

        // The other tab still follows the chat on this gateway; the channel no longer counts Dana, and her session says why.
        var gone = await Assert.ThrowsAsync<HubException>(() => otherTab.Hub.InvokeAsync<SendResult>("SendMessage", "still there?", "d-2"));
        Assert.Contains(ErrorCodes.ChannelEnded, gone.Message);
    }

    [Fact]
    public async Task AfterATransferNoCustomerOfTheChatWritesUntilTheNextAgentJoins()
    {
        var group = await GroupAsync();
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");
        var hello = await eve.Hub.InvokeAsync<SendResult>("SendMessage", "Hello from Eve", "e-1");
        await group.Agent.Messages.WaitAsync(m => m.Item2.Seq == hello.Seq);

        // To a queue nobody serves yet: Dana holds the chat's place in it, Eve waits with her in the chat.
        await group.Agent.Hub.InvokeAsync("TransferChat", group.ChannelId, new TransferInput("demo/" + gateway.NextSlot().Queue, null, null));

        foreach (var (customer, id) in new[] { (group.First.Hub, "d-9"), (eve, "e-9") })
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => customer.Hub.InvokeAsync<SendResult>("SendMessage", "anyone there?", id));
            Assert.Contains(ErrorCodes.InvalidState + ": No agent has joined yet", refused.Message);
        }
    }

    [Fact]
    public async Task PageReportsAreCheckedAndNeedAChat()
    {
        var group = await GroupAsync();
        var badUrl = await Assert.ThrowsAsync<HubException>(() =>
            group.First.Hub.Hub.InvokeAsync("ReportPage", new PageReportInput("javascript:alert(1)", null, 0, false)));
        Assert.Contains(ErrorCodes.InvalidUrl, badUrl.Message);
        var longTitle = await Assert.ThrowsAsync<HubException>(() =>
            group.First.Hub.Hub.InvokeAsync("ReportPage", new PageReportInput(Page("/demo/"), new string('x', 301), 0, false)));
        Assert.Contains(ErrorCodes.InvalidInput, longTitle.Message);
        var nobody = await CustomerAsync();
        var noSession = await Assert.ThrowsAsync<HubException>(() =>
            nobody.Hub.InvokeAsync("ReportPage", new PageReportInput(Page("/demo/"), null, 0, false)));
        Assert.Contains(ErrorCodes.UnknownSession, noSession.Message);

        // A customer who opens another page on their own: the agent sees it, with no navigation status.
        await group.First.Hub.Hub.InvokeAsync("ReportPage", new PageReportInput(Page("/demo/products/blender.html"), "Blender", 0, false));
        var (_, page) = await group.Agent.Pages.WaitAsync(p => p.Item2.PageUrl == Page("/demo/products/blender.html"));
        Assert.Equal((group.First.SessionId, "Dana", "Blender", (string?)null, (bool?)true), (page.SessionId, page.Name, page.PageTitle, page.Navigation, page.Guided));

        // The customer stops guiding: a navigation is then shown as a link, and the agent sees why it was not followed.
        var sent = await group.Agent.Hub.InvokeAsync<SendResult>("NavigateCustomers", group.ChannelId, Page("/demo/checkout.html"));
        await group.First.Hub.Hub.InvokeAsync("ReportPage", new PageReportInput(Page("/demo/products/blender.html"), "Blender", sent.Seq, false, Guided: false));
        var (_, declined) = await group.Agent.Pages.WaitAsync(p => p.Item2.Navigation == NavigationStatus.NotFollowed);
        Assert.Equal((sent.Seq, (bool?)false), (declined.NavigateSeq, declined.Guided));
    }

    [Fact]
    public async Task PageActivityReachesTheAgentsOfTheChatAndMalformedActivityIsRefused()
    {
        var group = await GroupAsync();
        var activity = group.Agent.Hub.Inbox<Guid, CustomerActivity>("CustomerActivity");

        await group.First.Hub.Hub.InvokeAsync("PageActivity", new PageActivityInput("click", null, null, null, null, null, "main > article.product > p.price", "€79.00"));
        await group.First.Hub.Hub.InvokeAsync("PageActivity", new PageActivityInput("focus", null, null, null, null, null, "input[name=email]", null));
        await group.First.Hub.Hub.InvokeAsync("PageActivity", new PageActivityInput("scroll", 0, 1200, null, null, null, null, null));
        var (channelId, click) = await activity.WaitAsync(a => a.Item2.Activity.Kind == PageActivityKinds.Click);
        Assert.Equal((group.ChannelId, group.First.SessionId, "Dana", "main > article.product > p.price", "€79.00"),
            (channelId, click.SessionId, click.Name, click.Activity.Selector, click.Activity.Text));
        var focus = (await activity.WaitAsync(a => a.Item2.Activity.Kind == PageActivityKinds.Focus)).Item2.Activity;
        Assert.Equal(("input[name=email]", (string?)null), (focus.Selector, focus.Text));
        Assert.Equal(1200, (await activity.WaitAsync(a => a.Item2.Activity.Kind == PageActivityKinds.Scroll)).Item2.Activity.Y);

        var kind = await Assert.ThrowsAsync<HubException>(() =>
            group.First.Hub.Hub.InvokeAsync("PageActivity", new PageActivityInput("keystrokes", null, null, null, null, null, null, "secret")));
        Assert.Contains(ErrorCodes.InvalidInput, kind.Message);
        var huge = await Assert.ThrowsAsync<HubException>(() =>
            group.First.Hub.Hub.InvokeAsync("PageActivity", new PageActivityInput("click", null, null, null, null, null, new string('a', 301), null)));
        Assert.Contains(ErrorCodes.InvalidInput, huge.Message);
        var nobody = await CustomerAsync();
        var noSession = await Assert.ThrowsAsync<HubException>(() =>
            nobody.Hub.InvokeAsync("PageActivity", new PageActivityInput("scroll", 0, 1, null, null, null, null, null)));
        Assert.Contains(ErrorCodes.UnknownSession, noSession.Message);
    }
}
