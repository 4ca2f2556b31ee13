using Microsoft.Extensions.DependencyInjection;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// Co-browsing over the public protocol: the agent's pointer and highlight reach the customers (all or one), and every
/// refusal is a clear hub error: an agent outside the chat, a malformed guide, a customer acting without their own session,
/// and callers who send faster than the gateway relays (<c>throttled</c>, with the agents told).
/// </summary>
public sealed class CoBrowseHubTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>, IAsyncLifetime
{
    private readonly List<HubConnection> _connections = [];
    private readonly GatewayFixture.Slot _slot = gateway.NextSlot();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    private sealed record Customer(HubConnection Hub, Guid SessionId, string Token, Inbox<AgentGuide> Guides);

    private sealed record Chat(HubConnection Agent, Guid ChannelId, Customer First, JoinCode Code);

    private string Page(string path) => new Uri(gateway.BaseAddress, path).AbsoluteUri;

    private HubConnection Track(HubConnection hub)
    {
        _connections.Add(hub);
        return hub;
    }

    private async Task<Chat> ChatAsync()
    {
        var agent = Track(gateway.AgentConnection(await gateway.TokenAsync(_slot.AgentId, _slot.Password)));
        var offers = agent.Inbox<ChatOffer>("Offer");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        var hub = Track(gateway.CustomerConnection());
        var guides = hub.Inbox<AgentGuide>("Guide");
        var joined = hub.Inbox<string>("AgentJoined");
        await hub.StartAsync();
        var start = await hub.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Dana", null, null, Page("/demo/products/kettle.html"), "Kettle", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await joined.WaitAsync();
        var code = await agent.InvokeAsync<JoinCode>("CreateJoinCode", accepted.ChannelId);
        return new Chat(agent, accepted.ChannelId, new Customer(hub, start.SessionId, start.ResumeToken, guides), code);
    }

    private async Task<Customer> JoinAsync(string code, string name)
    {
        var hub = Track(gateway.CustomerConnection());
        var guides = hub.Inbox<AgentGuide>("Guide");
        await hub.StartAsync();
        var result = await hub.InvokeAsync<JoinChatResult>("JoinChat", new JoinChatInput("demo", code, name, Page("/demo/products/kettle.html"), null));
        return new Customer(hub, result.SessionId, result.ResumeToken, guides);
    }

    private async Task<HubConnection> OutsiderAsync()
    {
        var other = gateway.NextSlot();
        var outsider = Track(gateway.AgentConnection(await gateway.TokenAsync(other.AgentId, other.Password)));
        await outsider.StartAsync();
        return outsider;
    }

    [Fact]
    public async Task TheAgentsPointerAndHighlightReachEveryCustomerOrOnlyTheOneNamed()
    {
        var chat = await ChatAsync();
        var eve = await JoinAsync(chat.Code.Code, "Eve");

        await chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Highlight, null, null, "  #add-to-cart  ", eve.SessionId));
        await chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Pointer, 640, 1200, null));
        var toEve = await eve.Guides.WaitAsync();
        Assert.Equal((AgentGuideKinds.Highlight, "#add-to-cart", (Guid?)eve.SessionId, _slot.AgentName), (toEve.Kind, toEve.Selector, toEve.To, toEve.From!.Name));
        // The first guide the first customer receives is the pointer for everyone: the highlight for Eve never reached them.
        var pointer = await chat.First.Guides.WaitAsync();
        Assert.Equal((AgentGuideKinds.Pointer, (int?)640, (int?)1200, (string?)null, (Guid?)null), (pointer.Kind, pointer.X, pointer.Y, pointer.Selector, pointer.To));
        Assert.Equal(AgentGuideKinds.Pointer, (await eve.Guides.WaitAsync()).Kind);
    }

    [Fact]
    public async Task MalformedGuidesAndGuidesFromOutsideTheChatAreRefused()
    {
        var chat = await ChatAsync();
        var cases = new (GuideInput Input, string Code, string Text)[]
        {
            (new GuideInput("pointer-lasers", 1, 1, null), ErrorCodes.InvalidInput, "kind must be"),
            (new GuideInput(null, 1, 1, null), ErrorCodes.InvalidInput, "kind must be"),
            (new GuideInput(AgentGuideKinds.Highlight, null, null, null), ErrorCodes.InvalidInput, "A CSS selector is required"),
            (new GuideInput(AgentGuideKinds.Scroll, null, null, "   "), ErrorCodes.InvalidInput, "A CSS selector is required"),
            (new GuideInput(AgentGuideKinds.Highlight, null, null, new string('a', InputRules.MaxSelectorLength + 1)), ErrorCodes.InvalidInput, "longer than 300"),
            (new GuideInput(AgentGuideKinds.Highlight, null, null, "p { color: red }"), ErrorCodes.InvalidInput, "no CSS selector has"),
            (new GuideInput(AgentGuideKinds.Highlight, null, null, "p\n.price"), ErrorCodes.InvalidInput, "no CSS selector has"),
            (new GuideInput(AgentGuideKinds.Pointer, null, 10, null), ErrorCodes.InvalidInput, "x and y"),
            (new GuideInput(AgentGuideKinds.Pointer, -1, 10, null), ErrorCodes.InvalidInput, "x and y"),
            (new GuideInput(AgentGuideKinds.Pointer, 10, 1_000_001, null), ErrorCodes.InvalidInput, "x and y"),
            (new GuideInput(AgentGuideKinds.Highlight, null, null, "p.price", Guid.NewGuid()), ErrorCodes.NotMember, "not in this chat"),
        };
        foreach (var (input, code, text) in cases)
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, input));
            Assert.Contains($"{code}: ", refused.Message);
            Assert.Contains(text, refused.Message);
        }

        // An agent who is not in the chat can neither guide nor move its customers.
        var outsider = await OutsiderAsync();
        var guide = await Assert.ThrowsAsync<HubException>(() =>
            outsider.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Highlight, null, null, "p.price")));
        Assert.Contains(ErrorCodes.NotMember, guide.Message);
        var all = await Assert.ThrowsAsync<HubException>(() => outsider.InvokeAsync<SendResult>("NavigateCustomers", chat.ChannelId, Page("/demo/checkout.html")));
        Assert.Contains(ErrorCodes.NotMember, all.Message);
        var one = await Assert.ThrowsAsync<HubException>(() =>
            outsider.InvokeAsync<SendResult>("NavigateCustomer", chat.ChannelId, chat.First.SessionId, Page("/demo/checkout.html")));
        Assert.Contains(ErrorCodes.NotMember, one.Message);

        // Nothing of it reached the customer: the first guide they get is the one the agent sends now.
        await chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Clear, null, null, null));
        Assert.Equal(AgentGuideKinds.Clear, (await chat.First.Guides.WaitAsync()).Kind);
    }

    [Fact]
    public async Task ACustomerConnectionActsOnlyForItsOwnSession()
    {
        var chat = await ChatAsync();
        var activity = chat.Agent.Inbox<Guid, CustomerActivity>("CustomerActivity");

        // Another connection knows Dana's session id but not her secret: the token is refused, and it stays without a session.
        var mallory = Track(gateway.CustomerConnection());
        await mallory.StartAsync();
        var forged = await Assert.ThrowsAsync<HubException>(() => mallory.InvokeAsync<ResumeResult>("Resume", $"{chat.First.SessionId:N}.not-the-secret", 0L));
        Assert.Contains(ErrorCodes.InvalidToken, forged.Message);
        foreach (var call in new Func<Task>[]
        {
            () => mallory.InvokeAsync("PageActivity", new PageActivityInput("click", null, null, null, null, null, "p.price", "forged")),
            () => mallory.InvokeAsync("ReportPage", new PageReportInput(Page("/demo/checkout.html"), null, 0, false)),
            () => mallory.InvokeAsync<SendResult>("SendMessage", "forged", "m-1"),
        })
        {
            var refused = await Assert.ThrowsAsync<HubException>(call);
            Assert.Contains(ErrorCodes.UnknownSession, refused.Message);
        }
        // A connection with a session of its own cannot take another's (the session is bound to the connection).
        var other = await Assert.ThrowsAsync<HubException>(() => chat.First.Hub.InvokeAsync<ResumeResult>("Resume", $"{Guid.NewGuid():N}.x", 0L));
        Assert.Contains(ErrorCodes.InvalidState, other.Message);

        // What the agent hears is Dana's own activity only.
        await chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput("click", null, null, null, null, null, "p.price", "€79.00"));
        var (_, heard) = await activity.WaitAsync();
        Assert.Equal((chat.First.SessionId, "€79.00"), (heard.SessionId, heard.Activity.Text));
    }

    [Fact]
    public async Task ActivityFasterThanTheGatewayRelaysIsRefusedAsThrottledAndTheAgentIsTold()
    {
        var chat = await ChatAsync();
        var activity = chat.Agent.Inbox<Guid, CustomerActivity>("CustomerActivity");

        HubException? throttled = null;
        var relayed = 0;
        for (var i = 0; i < 200 && throttled is null; i++)
        {
            try
            {
                await chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput("scroll", 0, i, null, null, null, null, null));
                relayed++;
            }
            catch (HubException e)
            {
                throttled = e;
            }
        }
        Assert.NotNull(throttled);
        Assert.Contains($"{ErrorCodes.Throttled}: More than {CustomerHub.MaxActivityPerSecond} page events", throttled.Message);
        Assert.InRange(relayed, CustomerHub.MaxActivityPerSecond, 199);
        var (channelId, notice) = await activity.WaitAsync(a => a.Item2.Activity.Kind == PageActivityKinds.Throttled);
        Assert.Equal((chat.ChannelId, chat.First.SessionId), (channelId, notice.SessionId));
        // A widget may not claim to be throttled itself.
        var claimed = await Assert.ThrowsAsync<HubException>(() =>
            chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput(PageActivityKinds.Throttled, null, null, null, null, null, null, null)));
        Assert.Contains(ErrorCodes.InvalidInput, claimed.Message);

        // The agent's pointer has its own budget.
        HubException? pointerThrottled = null;
        for (var i = 0; i < 400 && pointerThrottled is null; i++)
        {
            try
            {
                await chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Pointer, i, i, null));
            }
            catch (HubException e)
            {
                pointerThrottled = e;
            }
        }
        Assert.NotNull(pointerThrottled);
        Assert.Contains($"{ErrorCodes.Throttled}: More than {AgentHub.MaxGuidesPerSecond} pointer", pointerThrottled.Message);
    }

    [Fact]
    public async Task APageViewReachesOnlyTheAgentsAndIsRequestedFromTheOneCustomer()
    {
        var chat = await ChatAsync();
        var eve = await JoinAsync(chat.Code.Code, "Eve");
        var views = chat.Agent.Inbox<Guid, CustomerPageView>("CustomerPageView");
        var danaAsked = chat.First.Hub.Inbox<bool>("PageViewRequested");
        var eveAsked = eve.Hub.Inbox<bool>("PageViewRequested");

        await chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, eve.SessionId, true);
        await chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, chat.First.SessionId, false);
        Assert.True(await eveAsked.WaitAsync());
        Assert.False(await danaAsked.WaitAsync()); // the first request Dana hears is the one for her

        var data = Convert.ToBase64String("[{\"type\":4}]"u8.ToArray());
        await eve.Hub.InvokeAsync("PageView", new PageViewInput(PageViewStates.Events, 1, 0, 2, "json", data[..4]));
        await eve.Hub.InvokeAsync("PageView", new PageViewInput(PageViewStates.Events, 1, 1, 2, "json", data[4..]));
        await eve.Hub.InvokeAsync("PageView", new PageViewInput(PageViewStates.Stopped, 0, 0, 0, null, null, "The customer turned guiding off."));
        var first = (await views.WaitAsync()).Item2;
        var second = (await views.WaitAsync()).Item2;
        var stopped = (await views.WaitAsync()).Item2;
        Assert.Equal((eve.SessionId, "Eve", 0, 2, data[..4]), (first.SessionId, first.Name, first.Chunk.Part, first.Chunk.Parts, first.Chunk.Data));
        Assert.Equal((1, data[4..]), (second.Chunk.Part, second.Chunk.Data));
        Assert.Equal((PageViewStates.Stopped, "The customer turned guiding off.", (string?)null), (stopped.Chunk.State, stopped.Chunk.Reason, stopped.Chunk.Data));

        var outsider = await OutsiderAsync();
        var refused = await Assert.ThrowsAsync<HubException>(() => outsider.InvokeAsync("WatchPage", chat.ChannelId, eve.SessionId, true));
        Assert.Contains(ErrorCodes.NotMember, refused.Message);
        var stranger = await Assert.ThrowsAsync<HubException>(() => chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, Guid.NewGuid(), true));
        Assert.Contains(ErrorCodes.NotMember, stranger.Message);
    }

    [Fact]
    public async Task AConsoleThatAsksForTheCustomersGetsTheirLatestActivityOfEachKind()
    {
        // Activity is pushed once and never stored: what a console missed (it was not there yet, or reloaded) it reads here.
        var chat = await ChatAsync();
        await chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput("viewport", null, null, 1000, 420, null, null, null));
        await chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput("scroll", 0, 10, null, null, null, null, null));
        await chat.First.Hub.InvokeAsync("PageActivity", new PageActivityInput("scroll", 0, 20, null, null, null, null, null));

        var customers = await chat.Agent.InvokeAsync<IReadOnlyList<CustomerPresence>>("GetCustomers", chat.ChannelId);

        var activity = Assert.Single(customers).Activity!.ToDictionary(a => a.Activity.Kind, a => a.Activity);
        Assert.Equal([PageActivityKinds.Scroll, PageActivityKinds.Viewport], activity.Keys.Order());
        Assert.Equal((1000, 420), (activity[PageActivityKinds.Viewport].Width, activity[PageActivityKinds.Viewport].Height));
        Assert.Equal(20, activity[PageActivityKinds.Scroll].Y);
    }

    [Fact]
    public async Task TheCustomersPageIsRecordedWhileAnyAgentWatchesAndStopsWhenTheLastLooksAwayOrClosesTheConsole()
    {
        var chat = await ChatAsync();
        var colleagueSlot = gateway.NextSlot();
        var colleague = Track(gateway.AgentConnection(await gateway.TokenAsync(colleagueSlot.AgentId, colleagueSlot.Password)));
        var invitations = colleague.Inbox<ChatInvitation>("Invitation");
        await colleague.StartAsync();
        await colleague.InvokeAsync("SetStatus", "available");
        await chat.Agent.InvokeAsync("InviteColleague", chat.ChannelId, new InviteInput(colleagueSlot.AgentId, null));
        await invitations.WaitAsync();
        await colleague.InvokeAsync<AcceptResult>("AcceptInvitation", chat.ChannelId);
        var asked = chat.First.Hub.Inbox<bool>("PageViewRequested");

        // Both agents open the view: each opening asks the widget to (re)start with a full snapshot.
        await chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, chat.First.SessionId, true);
        Assert.True(await asked.WaitAsync());
        await colleague.InvokeAsync("WatchPage", chat.ChannelId, chat.First.SessionId, true);
        Assert.True(await asked.WaitAsync());

        // The first agent closes it: the colleague still watches, so the recording goes on. The guide sent after it
        // travels the same way, so once it arrived, a stop sent before it would have arrived too.
        await chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, chat.First.SessionId, false);
        await chat.Agent.InvokeAsync("GuideCustomers", chat.ChannelId, new GuideInput(AgentGuideKinds.Clear, null, null, null, null));
        await chat.First.Guides.WaitAsync(g => g.Kind == AgentGuideKinds.Clear);
        Assert.Equal(0, asked.Count);

        // The colleague closes the console without closing the view: nobody watches, the recording stops.
        await colleague.StopAsync();
        Assert.False(await asked.WaitAsync());
    }

    [Fact]
    public async Task ClosingTheConsoleStopsTheRecordingEvenAfterTheChannelWasReactivated()
    {
        var chat = await ChatAsync();
        var asked = chat.First.Hub.Inbox<bool>("PageViewRequested");
        await chat.Agent.InvokeAsync("WatchPage", chat.ChannelId, chat.First.SessionId, true);
        Assert.True(await asked.WaitAsync());

        // The channel grain is deactivated, as when its silo is lost, and comes back from storage when next called.
        await gateway.Services.GetRequiredService<IGrainFactory>().GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

        // The agent closes the console without closing the view: the channel still knows who watched, and stops it.
        await chat.Agent.StopAsync();
        Assert.False(await asked.WaitAsync());
    }

    [Fact]
    public async Task MalformedOrOversizedPageViewsAreRefusedAndTooMuchIsThrottledWithTheAgentsTold()
    {
        var chat = await ChatAsync();
        var views = chat.Agent.Inbox<Guid, CustomerPageView>("CustomerPageView");
        var ok = Convert.ToBase64String(new byte[30]);
        var cases = new (PageViewInput Input, string Text)[]
        {
            (new PageViewInput("degraded", 1, 0, 1, "gzip", ok), "state must be"),
            (new PageViewInput(null, 1, 0, 1, "gzip", ok), "state must be"),
            (new PageViewInput(PageViewStates.Events, -1, 0, 1, "gzip", ok), "seq must be"),
            (new PageViewInput(PageViewStates.Events, 1, 1, 1, "gzip", ok), "part below parts"),
            (new PageViewInput(PageViewStates.Events, 1, 0, CustomerHub.MaxPageViewParts + 1, "gzip", ok), "parts 1 to"),
            (new PageViewInput(PageViewStates.Events, 1, 0, 1, "brotli", ok), "encoding must be"),
            (new PageViewInput(PageViewStates.Events, 1, 0, 1, "gzip", null), "data must be"),
            (new PageViewInput(PageViewStates.Events, 1, 0, 1, "gzip", new string('A', CustomerHub.MaxPageViewChunk + 1)), "data must be"),
            (new PageViewInput(PageViewStates.Events, 1, 0, 1, "json", "[{\"type\":2}]"), "data must be base64"),
            (new PageViewInput(PageViewStates.Stopped, 0, 0, 0, null, null, new string('x', 201)), "reason is longer"),
        };
        foreach (var (input, text) in cases)
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => chat.First.Hub.InvokeAsync("PageView", input));
            Assert.Contains($"{ErrorCodes.InvalidInput}: ", refused.Message);
            Assert.Contains(text, refused.Message);
        }
        var nobody = Track(gateway.CustomerConnection());
        await nobody.StartAsync();
        var noSession = await Assert.ThrowsAsync<HubException>(() => nobody.InvokeAsync("PageView", new PageViewInput(PageViewStates.Events, 1, 0, 1, "gzip", ok)));
        Assert.Contains(ErrorCodes.UnknownSession, noSession.Message);

        // More than the budget in a second: the piece over it is refused, and the agents hear that the view is degraded.
        var big = new string('A', CustomerHub.MaxPageViewChunk);
        HubException? throttled = null;
        for (var seq = 1; seq < 1000 && throttled is null; seq++)
        {
            try
            {
                await chat.First.Hub.InvokeAsync("PageView", new PageViewInput(PageViewStates.Events, seq, 0, 1, "gzip", big));
            }
            catch (HubException e)
            {
                throttled = e;
            }
        }
        Assert.NotNull(throttled);
        Assert.Contains($"{ErrorCodes.Throttled}: More than {CustomerHub.MaxPageViewBytesPerSecond} characters of page view", throttled.Message);
        var (_, degraded) = await views.WaitAsync(v => v.Item2.Chunk.State == PageViewStates.Degraded);
        Assert.Equal(chat.First.SessionId, degraded.SessionId);
        Assert.Contains("fresh snapshot", degraded.Chunk.Reason);
    }
}
