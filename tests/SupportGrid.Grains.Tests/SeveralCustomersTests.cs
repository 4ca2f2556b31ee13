using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>Several customers in one channel: join codes, navigation for all or for one, page reports, leaving.</summary>
[Collection(ClusterCollection.Name)]
public sealed class SeveralCustomersTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "j" + Guid.NewGuid().ToString("N")[..8];

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private sealed record Group(IAgentGrain Agent, MemberRef AgentRef, IChannelGrain Channel, Guid ChannelId, Guid First, JoinCode Code);

    /// <summary>An agent in a chat with one customer from the queue, and a join code for that chat.</summary>
    private async Task<Group> GroupAsync()
    {
        var agentId = $"{_site}-alice";
        var agent = _client.GetGrain<IAgentGrain>(agentId);
        await agent.ConnectAsync("conn-" + agentId, new AgentProfile(agentId, "Alice", 3, [QueueKey.For(_site, "sales")]), GatewayRef());
        await agent.SetStatusAsync(AgentStatus.Available);
        var first = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(first).StartAsync(Request("Dana"), GatewayRef(), "conn-first");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == first);
        var accepted = await agent.AcceptOfferAsync(first);
        var me = new MemberRef(Roles.Agent, agentId, "Alice");
        var channel = _client.GetGrain<IChannelGrain>(accepted.ChannelId);
        var code = await channel.CreateJoinCodeAsync(me, TimeSpan.FromMinutes(10));
        return new Group(agent, me, channel, accepted.ChannelId, first, code);
    }

    private ChatRequest Request(string name, string? site = null) =>
        new(site ?? _site, "sales", name, null, null, "https://shop.example/kettle", "Kettle", null, false, null);

    private async Task<(Guid SessionId, JoinChatResult Result)> JoinAsync(string code, string name)
    {
        var sessionId = Guid.NewGuid();
        var result = await _client.GetGrain<ICustomerGrain>(sessionId).JoinAsync(code, Request(name), GatewayRef(), "conn-" + sessionId);
        return (sessionId, result);
    }

    private static MemberRef Customer(Guid sessionId) => new(Roles.Customer, sessionId.ToString(), "");

    [Fact]
    public async Task CustomersWithAJoinCodeJoinTheAgentsChannelEachWithASessionOfTheirOwn()
    {
        var group = await GroupAsync();
        Assert.Matches("^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$", group.Code.Code);
        Assert.Equal($"https://shop.example/kettle?sg-join={group.Code.Code}", group.Code.Url);

        var (eve, joined) = await JoinAsync(group.Code.Code.ToLowerInvariant().Replace("-", " "), "Eve");
        Assert.Equal((group.ChannelId, "Alice"), (joined.ChannelId, joined.AgentName));
        Assert.StartsWith(eve.ToString("N") + ".", joined.ResumeToken);
        Assert.Contains(joined.Events, e => e is { Type: EventTypes.Joined, Text: "Eve joined the chat." } && e.From.Id == eve.ToString());

        var members = await group.Channel.GetMembersAsync(group.AgentRef);
        Assert.Equal([group.First.ToString(), eve.ToString()], members.Where(m => m.Role == Roles.Customer).Select(m => m.Id));

        // Everyone hears everyone; each resumes their own session with their own token.
        var hello = (await group.Channel.PostMessageAsync(group.AgentRef, "Welcome, both of you.", "a1")).Seq;
        var fromEve = (await _client.GetGrain<ICustomerGrain>(eve).SendMessageAsync("Hi!", "e1")).Event.Seq;
        var resumed = await _client.GetGrain<ICustomerGrain>(eve).ResumeAsync(joined.ResumeToken.Split('.')[1], 0, GatewayRef(), "conn-eve-2");
        Assert.Equal((SessionStatus.Connected, group.ChannelId), (resumed.Status, resumed.ChannelId));
        Assert.Contains(resumed.Events, e => e.Seq == hello && e.Text == "Welcome, both of you.");
        var firstSees = await group.Channel.GetEventsAsync(Customer(group.First), 0);
        Assert.Contains(firstSees, e => e.Seq == fromEve && e.From == new Participant(Roles.Customer, "Eve", eve.ToString()));
        await Assert.ThrowsAsync<SupportGridException>(() =>
            _client.GetGrain<ICustomerGrain>(eve).ResumeAsync("wrong-secret", 0, GatewayRef(), "conn-eve-3"));
    }

    [Fact]
    public async Task AnUnknownExpiredMalformedOrForeignJoinCodeIsRefusedWithInvalidCode()
    {
        var group = await GroupAsync();

        var unknown = await Assert.ThrowsAsync<SupportGridException>(() => JoinAsync("22222-22222", "Eve"));
        Assert.Equal(ErrorCodes.InvalidCode, unknown.Code);
        Assert.Contains("not known", unknown.Message);

        var malformed = await Assert.ThrowsAsync<SupportGridException>(() => JoinAsync("let-me-in", "Eve"));
        Assert.Equal(ErrorCodes.InvalidCode, malformed.Code);

        var expired = new string(Enumerable.Range(0, JoinCodes.Length).Select(_ => JoinCodes.Alphabet[Random.Shared.Next(JoinCodes.Alphabet.Length)]).ToArray());
        var target = new JoinCodeTarget(group.ChannelId, _site, QueueKey.For(_site, "sales"), group.AgentRef.Id, "Alice");
        Assert.True(await _client.GetGrain<IJoinCodeGrain>(expired).RegisterAsync(target, DateTimeOffset.UtcNow.AddSeconds(-1)));
        var late = await Assert.ThrowsAsync<SupportGridException>(() => JoinAsync(expired, "Eve"));
        Assert.Equal((ErrorCodes.InvalidCode, "This join code has expired. Ask the agent for a new one."), (late.Code, late.Message));

        var sessionId = Guid.NewGuid();
        var foreign = await Assert.ThrowsAsync<SupportGridException>(() =>
            _client.GetGrain<ICustomerGrain>(sessionId).JoinAsync(group.Code.Code, Request("Eve", site: "elsewhere"), GatewayRef(), "c"));
        Assert.Equal(ErrorCodes.InvalidCode, foreign.Code);
        Assert.Equal(SessionStatus.New, await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync());
        Assert.Single(await group.Channel.GetMembersAsync(group.AgentRef), m => m.Role == Roles.Customer);

        // Only an agent of the channel makes codes.
        var notMine = await Assert.ThrowsAsync<SupportGridException>(() =>
            group.Channel.CreateJoinCodeAsync(new MemberRef(Roles.Agent, $"{_site}-mallory", "Mallory"), TimeSpan.FromMinutes(5)));
        Assert.Equal(ErrorCodes.NotMember, notMine.Code);
        var byCustomer = await Assert.ThrowsAsync<SupportGridException>(() => group.Channel.CreateJoinCodeAsync(Customer(group.First), TimeSpan.FromMinutes(5)));
        Assert.Equal(ErrorCodes.NotMember, byCustomer.Code);
    }

    [Fact]
    public async Task ANavigationForOneCustomerNamesThatCustomerAndLeavesTheOthersAlone()
    {
        var group = await GroupAsync();
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");

        var seq = await group.Channel.NavigateCustomerAsync(group.AgentRef, eve, "https://shop.example/toaster");
        var navigate = (await group.Channel.GetEventsAsync(group.AgentRef, seq - 1)).Single();
        Assert.Equal((EventTypes.Navigate, "https://shop.example/toaster", eve.ToString()), (navigate.Type, navigate.Url, navigate.To));
        var customers = await group.Channel.GetCustomersAsync(group.AgentRef);
        Assert.Equal(NavigationStatus.Pending, customers.Single(c => c.SessionId == eve).Navigation);
        Assert.Null(customers.Single(c => c.SessionId == group.First).Navigation);

        var stranger = await Assert.ThrowsAsync<SupportGridException>(() =>
            group.Channel.NavigateCustomerAsync(group.AgentRef, Guid.NewGuid(), "https://shop.example/"));
        Assert.Equal(ErrorCodes.NotMember, stranger.Code);
        foreach (var bad in new[] { "javascript:alert(1)", "ftp://shop.example/file", "data:text/html,hi", "/relative" })
        {
            var one = await Assert.ThrowsAsync<SupportGridException>(() => group.Channel.NavigateCustomerAsync(group.AgentRef, eve, bad));
            var all = await Assert.ThrowsAsync<SupportGridException>(() => group.Channel.NavigateAsync(group.AgentRef, bad));
            Assert.Equal((ErrorCodes.InvalidUrl, ErrorCodes.InvalidUrl), (one.Code, all.Code));
        }
        var byCustomer = await Assert.ThrowsAsync<SupportGridException>(() =>
            group.Channel.NavigateCustomerAsync(Customer(group.First), eve, "https://shop.example/"));
        Assert.Equal(ErrorCodes.NotMember, byCustomer.Code);
    }

    [Fact]
    public async Task PageReportsTellTheAgentWhoFollowedTheLastNavigationAndWhoCouldNot()
    {
        var group = await GroupAsync();
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");
        var (finn, _) = await JoinAsync(group.Code.Code, "Finn");
        var seq = await group.Channel.NavigateAsync(group.AgentRef, "https://shop.example/toaster");
        Assert.All(await group.Channel.GetCustomersAsync(group.AgentRef), c => Assert.Equal((seq, NavigationStatus.Pending), (c.NavigateSeq, c.Navigation)));

        await _client.GetGrain<ICustomerGrain>(group.First).ReportPageAsync(new PageReport("https://shop.example/toaster", "Toaster", seq, true));
        await _client.GetGrain<ICustomerGrain>(eve).ReportPageAsync(new PageReport("https://shop.example/kettle", "Kettle", seq, false));
        await _client.GetGrain<ICustomerGrain>(finn).ReportPageAsync(new PageReport("https://shop.example/kettle", "Kettle", 0, false));

        var customers = (await group.Channel.GetCustomersAsync(group.AgentRef)).ToDictionary(c => c.SessionId);
        Assert.Equal(("https://shop.example/toaster", "Toaster", NavigationStatus.Followed), (customers[group.First].PageUrl, customers[group.First].PageTitle, customers[group.First].Navigation));
        Assert.Equal(("https://shop.example/kettle", NavigationStatus.NotFollowed), (customers[eve].PageUrl, customers[eve].Navigation));
        Assert.Equal(("https://shop.example/kettle", NavigationStatus.Pending), (customers[finn].PageUrl, customers[finn].Navigation));
        Assert.NotNull(customers[finn].ReportedAt);

        var bad = await Assert.ThrowsAsync<SupportGridException>(() =>
            _client.GetGrain<ICustomerGrain>(eve).ReportPageAsync(new PageReport("javascript:alert(1)", null, 0, false)));
        Assert.Equal(ErrorCodes.InvalidUrl, bad.Code);
        var nosy = await Assert.ThrowsAsync<SupportGridException>(() => group.Channel.GetCustomersAsync(Customer(eve)));
        Assert.Equal(ErrorCodes.NotMember, nosy.Code);
    }

    [Fact]
    public async Task ACustomerLeavingDoesNotEndTheChannelWhileOthersRemainButTheAgentEndingItEndsItForAll()
    {
        var group = await GroupAsync();
        var (eve, eveJoin) = await JoinAsync(group.Code.Code, "Eve");
        var (finn, _) = await JoinAsync(group.Code.Code, "Finn");

        await _client.GetGrain<ICustomerGrain>(eve).EndAsync();
        Assert.Equal(SessionStatus.Ended, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());
        var told = await _gateway.WaitForAsync(p => p.Kind == "ended" && p.SessionId == eve);
        Assert.Equal("You left the chat.", told.Payload);
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(finn).GetStatusAsync());
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(group.First).GetStatusAsync());
        var events = await group.Channel.GetEventsAsync(group.AgentRef, 0);
        Assert.Contains(events, e => e is { Type: EventTypes.Left, Text: "Eve left the chat." });
        Assert.DoesNotContain(events, e => e.Type == EventTypes.Ended);
        Assert.DoesNotContain(await group.Channel.GetMembersAsync(group.AgentRef), m => m.Id == eve.ToString());
        await group.Channel.PostMessageAsync(Customer(finn), "Still here", "f1");
        var gone = await Assert.ThrowsAsync<SupportGridException>(() => group.Channel.PostMessageAsync(Customer(eve), "me too", "e1"));
        Assert.Equal(ErrorCodes.NotMember, gone.Code);
        // Eve's token still opens her (ended) session and its transcript, as after any ended chat.
        var resumed = await _client.GetGrain<ICustomerGrain>(eve).ResumeAsync(eveJoin.ResumeToken.Split('.')[1], 0, GatewayRef(), "conn-eve-2");
        Assert.Equal(SessionStatus.Ended, resumed.Status);

        await group.Channel.EndAsync(group.AgentRef, "Alice ended the chat.");
        Assert.Equal(SessionStatus.Ended, await _client.GetGrain<ICustomerGrain>(finn).GetStatusAsync());
        Assert.Equal(SessionStatus.Ended, await _client.GetGrain<ICustomerGrain>(group.First).GetStatusAsync());
        await Eventually.HoldsAsync(async () => (await group.Agent.GetSnapshotAsync()).Chats.Count == 0, "the agent's capacity is freed");
        var late = await Assert.ThrowsAsync<SupportGridException>(() => JoinAsync(group.Code.Code, "Gus"));
        Assert.Equal(ErrorCodes.ChannelEnded, late.Code);
    }

    [Fact]
    public async Task TheLastCustomerLeavingEndsTheChannel()
    {
        var group = await GroupAsync();
        var (eve, _) = await JoinAsync(group.Code.Code, "Eve");
        await _client.GetGrain<ICustomerGrain>(group.First).EndAsync();
        Assert.Equal(SessionStatus.Connected, await _client.GetGrain<ICustomerGrain>(eve).GetStatusAsync());

        await _client.GetGrain<ICustomerGrain>(eve).EndAsync();
        var last = (await group.Channel.GetEventsAsync(group.AgentRef, 0))[^1];
        Assert.Equal((EventTypes.Ended, "Eve ended the chat."), (last.Type, last.Text));
        await Eventually.HoldsAsync(async () => (await group.Agent.GetSnapshotAsync()).Chats.Count == 0, "the agent's capacity is freed");
    }
}
