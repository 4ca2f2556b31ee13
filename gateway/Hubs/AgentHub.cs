using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.SignalR;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Fanout;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Hubs;

/// <summary>
/// The agent console's side. Only signed-in agents connect; the agent id is the token's subject. An agent acts on a
/// channel only if the channel grain lists them as a member.
/// </summary>
[Authorize(Policy = AgentHub.Policy)]
public sealed class AgentHub(
    IGrainFactory grains,
    GatewayEndpoint endpoint,
    ConnectionRegistry registry,
    ChannelFanout fanout,
    AgentDirectory directory,
    Sites.SiteDirectory sites) : Hub<IAgentClient>
{
    public const string Policy = "agent";

    private static readonly ChannelFanout.Listener AgentListener = new(true, null);

    public override async Task OnConnectedAsync()
    {
        var profile = directory.Profile(AgentId)
            ?? throw new HubException($"{ErrorCodes.NotMember}: '{AgentId}' is not an agent of this deployment.");
        registry.BindAgent(Context.ConnectionId, AgentId);
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Agent(AgentId));
        // Registering a connection twice is harmless: one more attempt if the cluster was moving under the first.
        var snapshot = await Hosting.TransientRetry.OnceAsync((Agent: Agent(), Connection: Context.ConnectionId, Profile: profile, Endpoint: endpoint.Reference),
            static s => s.Agent.ConnectAsync(s.Connection, s.Profile, s.Endpoint));
        // The console asks for its state (GetState) once connected, which reads every chat after this join.
        foreach (var chat in snapshot.Chats)
            await fanout.JoinAsync(chat.ChannelId, Context.ConnectionId, AgentListener);
        await base.OnConnectedAsync();
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        await fanout.LeaveAllAsync(Context.ConnectionId);
        registry.UnbindAgent(Context.ConnectionId);
        await Agent().DisconnectAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    /// <summary>Status, open offers and every active chat with its transcript.</summary>
    public async Task<AgentSnapshot> GetState()
    {
        var snapshot = await Agent().GetSnapshotAsync();
        var chats = new List<ActiveChat>(snapshot.Chats.Count);
        foreach (var chat in snapshot.Chats)
        {
            // Join, then read what was published since the snapshot (as AcceptOffer does): nothing falls between.
            var more = await fanout.FollowAsync(chat.ChannelId, [(Context.ConnectionId, AgentListener)], LastSeq(chat.Events), EventsAfter(chat.ChannelId));
            chats.Add(more.Count > 0 ? chat with { Events = [.. chat.Events, .. more] } : chat);
        }
        return snapshot with { Chats = chats };
    }

    private static long LastSeq(IReadOnlyList<ChannelEvent> events) => events.Count > 0 ? events[^1].Seq : 0;

    /// <summary>Reads a chat's events after a sequence number; none if this agent left it meanwhile (its ChatLeft push follows).</summary>
    private Func<long, Task<IReadOnlyList<ChannelEvent>>> EventsAfter(Guid channelId)
    {
        var channel = Channel(channelId);
        var me = Me;
        return async after =>
        {
            try
            {
                return await channel.GetEventsAsync(me, after);
            }
            catch (SupportGridException)
            {
                return [];
            }
        };
    }

    public Task SetStatus(string status)
    {
        if (!AgentStatus.IsValid(status))
            throw new HubException($"{ErrorCodes.InvalidInput}: Unknown status '{status}'; use available, away or offline.");
        return Agent().SetStatusAsync(status);
    }

    public async Task<AcceptResult> AcceptOffer(Guid sessionId)
    {
        var result = await Agent().AcceptOfferAsync(sessionId);
        return await FollowAsync(result);
    }

    /// <summary>Every console of this agent on this gateway follows the chat it took: subscribe, then read the rest (and
    /// once the subscription receives, what was published in between).</summary>
    private async Task<AcceptResult> FollowAsync(AcceptResult result)
    {
        var more = await fanout.FollowAsync(result.ChannelId, registry.AgentConnections(AgentId).Select(c => (c, AgentListener)),
            LastSeq(result.Events), EventsAfter(result.ChannelId));
        return more.Count > 0 ? result with { Events = [.. result.Events, .. more] } : result;
    }

    /// <summary>Accepts an offered customer into a chat this agent already has (a further customer of that chat; no extra
    /// capacity is used). The answer has the chat's events, with the customer's "joined".</summary>
    public async Task<AcceptResult> AcceptOfferInto(Guid sessionId, Guid channelId)
    {
        var result = await Agent().AcceptOfferIntoChannelAsync(sessionId, channelId);
        var last = result.Events.Count > 0 ? result.Events[^1].Seq : 0;
        var more = await Channel(result.ChannelId).GetEventsAsync(Me, last);
        return more.Count > 0 ? result with { Events = [.. result.Events, .. more] } : result;
    }

    public Task DeclineOffer(Guid sessionId) => Agent().DeclineOfferAsync(sessionId);

    public async Task<SendResult> SendMessage(Guid channelId, string text, string clientMessageId)
    {
        InputRules.RequireClientMessageId(clientMessageId);
        var posted = await Hosting.TransientRetry.OnceAsync((Channel: Channel(channelId), From: Me, Text: InputRules.RequireMessageText(text), Id: clientMessageId), static s => s.Channel.PostMessageAsync(s.From, s.Text, s.Id));
        await fanout.RelaySentAsync(channelId, posted, Context.ConnectionId);
        return new SendResult(posted.Seq, posted);
    }

    public Task SetTyping(Guid channelId, bool isTyping) => Channel(channelId).SetTypingAsync(Me, isTyping);

    public async Task<SendResult> NavigateCustomers(Guid channelId, string url)
    {
        var target = InputRules.RequireNavigableUrl(url);
        return new SendResult(await Channel(channelId).NavigateAsync(Me, target.AbsoluteUri));
    }

    /// <summary>Sends one customer of the chat (by session id) to a page; the others stay where they are.</summary>
    public async Task<SendResult> NavigateCustomer(Guid channelId, Guid sessionId, string url)
    {
        var target = InputRules.RequireNavigableUrl(url);
        return new SendResult(await Channel(channelId).NavigateCustomerAsync(Me, sessionId, target.AbsoluteUri));
    }

    /// <summary>
    /// Shows something on the customers' pages: the agent's pointer (x, y in document pixels), an outline around the element
    /// a CSS selector names, a scroll to it, or clears them; for every customer, or one (<c>sessionId</c>). Never stored.
    /// At most <see cref="MaxGuidesPerSecond"/> per connection; more is refused with a <c>throttled</c> error.
    /// </summary>
    public Task GuideCustomers(Guid channelId, GuideInput input)
    {
        if (!AgentGuideKinds.IsValid(input.Kind))
            throw new HubException($"{ErrorCodes.InvalidInput}: kind must be pointer, highlight, scroll or clear.");
        var selector = input.Kind is AgentGuideKinds.Highlight or AgentGuideKinds.Scroll ? InputRules.RequireSelector(input.Selector) : null;
        if (input.Kind == AgentGuideKinds.Pointer && (input.X is not (>= 0 and <= 1_000_000) || input.Y is not (>= 0 and <= 1_000_000)))
            throw new HubException($"{ErrorCodes.InvalidInput}: A pointer needs x and y from 0 to 1000000.");
        if (!ConnectionBudget.TryTake(Context, GuideKey, MaxGuidesPerSecond, 1, out _))
            throw new HubException($"{ErrorCodes.Throttled}: More than {MaxGuidesPerSecond} pointer or highlight updates in a second; this one was not sent.");
        return Channel(channelId).GuideAsync(Me, new AgentGuide(input.Kind!, input.X, input.Y, selector, input.SessionId));
    }

    public const int MaxGuidesPerSecond = 20;

    private const string GuideKey = "sg.guide";

    /// <summary>Opens (<paramref name="on"/>) or closes the live view of one customer's page: their widget starts recording
    /// with a fresh full snapshot (only while they let the agent guide) or stops; the view arrives as <c>CustomerPageView</c>.</summary>
    public Task WatchPage(Guid channelId, Guid sessionId, bool on) => Channel(channelId).RequestPageViewAsync(Me, sessionId, on);

    /// <summary>A join code (and link) for this chat: customers who use it before it expires join as further customers.</summary>
    public Task<JoinCode> CreateJoinCode(Guid channelId) => Channel(channelId).CreateJoinCodeAsync(Me, sites.JoinCodeLifetime);

    /// <summary>Each customer of the chat with their current page and the fate of the last navigation sent to them.</summary>
    public Task<IReadOnlyList<CustomerPresence>> GetCustomers(Guid channelId) => Channel(channelId).GetCustomersAsync(Me);

    /// <summary>Hands the chat to a queue or to a colleague, with a note; the customer stays in the same channel.</summary>
    public Task TransferChat(Guid channelId, TransferInput input)
    {
        var note = input.Note?.Trim();
        if (note?.Length > 500)
            throw new HubException($"{ErrorCodes.InvalidInput}: The note is longer than 500 characters.");
        switch (input)
        {
            case { ToQueue: { Length: > 0 } queue, ToAgent: null or "" }:
                if (!sites.QueueExists(queue))
                    throw new HubException($"{ErrorCodes.InvalidInput}: There is no queue '{queue}'.");
                return Agent().TransferAsync(channelId, [queue], null, note);
            case { ToAgent: { Length: > 0 } agentId, ToQueue: null or "" }:
                var target = directory.Profile(agentId)
                    ?? throw new HubException($"{ErrorCodes.InvalidInput}: There is no agent '{agentId}'.");
                return Agent().TransferAsync(channelId, target.Queues, agentId, note);
            default:
                throw new HubException($"{ErrorCodes.InvalidInput}: Name exactly one of toQueue or toAgent.");
        }
    }

    /// <summary>Queues and colleagues a chat can be transferred to, with each colleague's status.</summary>
    public async Task<TransferTargets> GetTransferTargets()
    {
        var colleagues = directory.All().Where(a => a.AgentId != AgentId).Take(200).ToList();
        var statuses = await Task.WhenAll(colleagues.Select(a => grains.GetGrain<IAgentGrain>(a.AgentId).GetStatusAsync()));
        return new TransferTargets(sites.AllQueues(), colleagues.Select((a, i) => new TransferAgent(a.AgentId, a.DisplayName, statuses[i])).ToList());
    }

    /// <summary>Asks a colleague to join the chat as a second agent (they accept or decline; the customer sees who joins).</summary>
    public async Task InviteColleague(Guid channelId, InviteInput input)
    {
        if (input.Note?.Trim().Length > 500)
            throw new HubException($"{ErrorCodes.InvalidInput}: The note is longer than 500 characters.");
        if (string.IsNullOrWhiteSpace(input.AgentId) || directory.Profile(input.AgentId) is null)
            throw new HubException($"{ErrorCodes.InvalidInput}: There is no agent '{input.AgentId}'.");
        var invitation = await Agent().PrepareInvitationAsync(channelId, input.Note);
        await grains.GetGrain<IAgentGrain>(input.AgentId).ReceiveInvitationAsync(invitation);
    }

    public async Task<AcceptResult> AcceptInvitation(Guid channelId)
    {
        var result = await Agent().AcceptInvitationAsync(channelId);
        return await FollowAsync(result);
    }

    public Task DeclineInvitation(Guid channelId) => Agent().DeclineInvitationAsync(channelId);

    /// <summary>Leaves a chat another agent stays in.</summary>
    public Task LeaveChat(Guid channelId) => Agent().LeaveChatAsync(channelId);

    public Task EndChat(Guid channelId) => Channel(channelId).EndAsync(Me, $"{Me.Name} ended the chat.");

    public Task<IReadOnlyList<ChannelEvent>> GetEvents(Guid channelId, long afterSeq) => Channel(channelId).GetEventsAsync(Me, afterSeq);

    private string AgentId => Context.UserIdentifier ?? throw new HubException("Not signed in.");

    private MemberRef Me => new(Roles.Agent, AgentId, Context.User?.Identity?.Name ?? AgentId);

    private IAgentGrain Agent() => grains.GetGrain<IAgentGrain>(AgentId);

    private IChannelGrain Channel(Guid channelId) => grains.GetGrain<IChannelGrain>(channelId);
}
