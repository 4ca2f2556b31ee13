using Microsoft.AspNetCore.SignalR;
using SupportGrid.Gateway.Fanout;
using SupportGrid.Gateway.Sites;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Hubs;

/// <summary>
/// The shopper's side, anonymous. A connection acts only on the session it started or resumed with that session's
/// token; the session id lives in the connection's items, never in a method argument.
/// </summary>
public sealed class CustomerHub(
    IGrainFactory grains,
    GatewayEndpoint endpoint,
    ConnectionRegistry registry,
    ChannelFanout fanout,
    SiteDirectory sites) : Hub<ICustomerClient>
{
    private const string SessionKey = "sg.session";

    /// <summary>The session a failed StartChat on this connection asked for (reused by its retry).</summary>
    private const string StartingKey = "sg.starting";

    public async Task<StartChatResult> StartChat(StartChatInput input)
    {
        if (Context.Items.ContainsKey(SessionKey))
            throw new HubException($"{ErrorCodes.InvalidState}: This connection already has a chat; end it before starting another.");
        var request = Validate(input);
        // A retry on this connection after a failed StartChat (`unavailable` while a silo joins or leaves) asks for the
        // same session: the failed call may have queued it before its answer was lost, and the queue answers a session it
        // already holds with its place instead of queueing it twice.
        var sessionId = Context.Items.TryGetValue(StartingKey, out var starting) && starting is Guid earlier ? earlier : Guid.NewGuid();
        Context.Items[StartingKey] = sessionId;
        // Bind before the grain call: an agent may accept (and the grain push AgentJoined here) before the call returns.
        await BindAsync(sessionId);
        try
        {
            var started = await grains.GetGrain<ICustomerGrain>(sessionId).StartAsync(request, endpoint.Reference, Context.ConnectionId);
            Context.Items.Remove(StartingKey);
            return started;
        }
        catch (Exception e)
        {
            await UnbindAsync(sessionId);
            // Refused because nobody is available: nothing was queued and the refusal is recorded under this id, so the
            // next attempt on this connection (say, once an agent is back) is a session of its own.
            if (e is SupportGridException { Code: ErrorCodes.Offline })
                Context.Items.Remove(StartingKey);
            throw;
        }
    }

    /// <summary>Joins the chat an agent's join code leads to, as a further customer with a session of their own (no queue).</summary>
    public async Task<JoinChatResult> JoinChat(JoinChatInput input)
    {
        if (Context.Items.ContainsKey(SessionKey))
            throw new HubException($"{ErrorCodes.InvalidState}: This connection already has a chat; end it before joining another.");
        if (sites.Find(input.Site) is null)
            throw new HubException($"{ErrorCodes.InvalidInput}: Unknown site '{Truncate(input.Site)}'.");
        var code = JoinCodes.Normalize(input.Code)
            ?? throw new HubException($"{ErrorCodes.InvalidCode}: That is not a join code (10 letters and digits, like ABCDE-FGHJK).");
        var name = RequireName(input.Name);
        var pageUrl = InputRules.RequireNavigableUrl(input.PageUrl).AbsoluteUri;
        var request = new ChatRequest(input.Site!, "", name, null, null, pageUrl, Optional(input.PageTitle, 300, "pageTitle"), null, false,
            Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString());
        var sessionId = Guid.NewGuid();
        await BindAsync(sessionId);
        JoinChatResult result;
        try
        {
            result = await grains.GetGrain<ICustomerGrain>(sessionId).JoinAsync(code, request, endpoint.Reference, Context.ConnectionId);
        }
        catch
        {
            await UnbindAsync(sessionId);
            throw;
        }
        // Subscribe, then read what was published while we were subscribing (as Resume does).
        var more = await FollowAsync(sessionId, result.ChannelId, result.Events.Count > 0 ? result.Events[^1].Seq : 0);
        return more.Count > 0 ? result with { Events = [.. result.Events, .. more] } : result;
    }

    /// <summary>Where this customer's page is now (after a load or an in-page navigation), and whether the page followed
    /// the last navigation the widget applied. The agents of the chat see it.</summary>
    public Task ReportPage(PageReportInput input)
    {
        var url = InputRules.RequireNavigableUrl(input.Url).AbsoluteUri;
        var title = Optional(input.Title, 300, "title");
        if (input.NavigateSeq < 0)
            throw new HubException($"{ErrorCodes.InvalidInput}: navigateSeq cannot be negative.");
        return Session().ReportPageAsync(new PageReport(url, title, input.NavigateSeq, input.Followed, input.Guided));
    }

    /// <summary>
    /// What the customer does on the page, for the agents: scroll position, viewport size, tab visibility, clicks (a CSS
    /// selector and the element's visible text) and which field has focus (never a value: there is no field for one).
    /// At most <see cref="MaxActivityPerSecond"/> per connection are relayed; a call over that is refused with a
    /// <c>throttled</c> error (the widget coalesces scroll and viewport so it stays under it), and the agents are told
    /// once per second that this customer's events were throttled (a <c>throttled</c> activity).
    /// </summary>
    public async Task PageActivity(PageActivityInput input)
    {
        if (!PageActivityKinds.IsValid(input.Kind))
            throw new HubException($"{ErrorCodes.InvalidInput}: kind must be scroll, viewport, visibility, click or focus.");
        var activity = new GrainInterfaces.PageActivity(input.Kind!, Coordinate(input.X), Coordinate(input.Y), Coordinate(input.Width), Coordinate(input.Height),
            input.Visible, Optional(input.Selector, 300, "selector"), Optional(input.Text, 200, "text"));
        var session = Session();
        if (!ConnectionBudget.TryTake(Context, ActivityKey, MaxActivityPerSecond, 1, out var firstRefusal))
        {
            if (firstRefusal)
                await session.PageActivityAsync(new GrainInterfaces.PageActivity(PageActivityKinds.Throttled));
            throw new HubException($"{ErrorCodes.Throttled}: More than {MaxActivityPerSecond} page events in a second; this one was not relayed.");
        }
        await session.PageActivityAsync(activity);
    }

    public const int MaxActivityPerSecond = 10;

    /// <summary>
    /// A piece of the customer's live page view (rrweb events recorded with every input masked, batched, compressed and
    /// base64-encoded by the widget), relayed to the agents of the chat and never stored. Checked for shape only: the
    /// content is opaque here. At most <see cref="MaxPageViewBytesPerSecond"/> characters a second per connection: a
    /// piece over that is refused with a <c>throttled</c> error, and the agents are told once per second that the view
    /// is degraded (the widget then sends a fresh full snapshot).
    /// </summary>
    public async Task PageView(PageViewInput input)
    {
        if (!PageViewStates.IsValid(input.State))
            throw new HubException($"{ErrorCodes.InvalidInput}: state must be events or stopped.");
        PageViewChunk chunk;
        if (input.State == PageViewStates.Stopped)
        {
            chunk = new PageViewChunk(PageViewStates.Stopped, Reason: Optional(input.Reason, 200, "reason"));
        }
        else
        {
            if (input.Seq < 0 || input.Parts is < 1 or > MaxPageViewParts || input.Part < 0 || input.Part >= input.Parts)
                throw new HubException($"{ErrorCodes.InvalidInput}: seq must be 0 or more, parts 1 to {MaxPageViewParts} and part below parts.");
            if (input.Encoding is not ("gzip" or "json"))
                throw new HubException($"{ErrorCodes.InvalidInput}: encoding must be gzip or json.");
            if (string.IsNullOrEmpty(input.Data) || input.Data.Length > MaxPageViewChunk)
                throw new HubException($"{ErrorCodes.InvalidInput}: data must be 1 to {MaxPageViewChunk} characters of base64.");
            if (!IsBase64(input.Data))
                throw new HubException($"{ErrorCodes.InvalidInput}: data must be base64.");
            chunk = new PageViewChunk(PageViewStates.Events, input.Seq, input.Part, input.Parts, input.Encoding, input.Data);
        }
        var session = Session();
        if (!ConnectionBudget.TryTake(Context, PageViewKey, MaxPageViewBytesPerSecond, chunk.Data?.Length ?? 0, out var firstRefusal))
        {
            if (firstRefusal)
            {
                await session.PageViewAsync(new PageViewChunk(PageViewStates.Degraded,
                    Reason: "The page changes faster than the view is relayed; parts were left out and a fresh snapshot follows."));
            }
            throw new HubException($"{ErrorCodes.Throttled}: More than {MaxPageViewBytesPerSecond} characters of page view in a second; this part was not relayed. Send a fresh full snapshot.");
        }
        await session.PageViewAsync(chunk);
    }

    /// <summary>Characters of page view data relayed per connection and second (about 2 Mbit/s).</summary>
    public const int MaxPageViewBytesPerSecond = 256 * 1024;

    /// <summary>Most characters in one piece (the SignalR message limit is 32 KB).</summary>
    public const int MaxPageViewChunk = 24_000;

    public const int MaxPageViewParts = 64;

    private const string PageViewKey = "sg.pageview";

    private static bool IsBase64(string data)
    {
        foreach (var c in data)
        {
            if (c is not ((>= 'A' and <= 'Z') or (>= 'a' and <= 'z') or (>= '0' and <= '9') or '+' or '/' or '='))
                return false;
        }
        return true;
    }

    private const string ActivityKey = "sg.activity";

    private static int? Coordinate(int? value) => value is null ? null : Math.Clamp(value.Value, -1_000_000, 1_000_000);

    /// <summary>Whether the queue takes chats now; if not, why, in a sentence for the shopper.</summary>
    public Task<QueueAvailability> GetAvailability(string site, string queue)
    {
        RequireQueue(site, queue);
        return grains.GetGrain<IQueueGrain>(QueueKey.For(site, queue)).GetAvailabilityAsync();
    }

    /// <summary>Leaves a message for the site while its queue is offline; it lands in the usage records.</summary>
    public async Task<LeaveMessageResult> LeaveMessage(LeaveMessageInput input)
    {
        RequireQueue(input.Site, input.Queue);
        var name = RequireName(input.Name);
        var email = Optional(input.Email, 254, "email");
        var phone = Optional(input.Phone, 40, "phone");
        if (email is null && phone is null)
            throw new HubException($"{ErrorCodes.InvalidInput}: Leave an email address or a phone number so that we can answer.");
        var text = InputRules.RequireMessageText(input.Text);
        var pageUrl = InputRules.RequireNavigableUrl(input.PageUrl).AbsoluteUri;
        var request = new ChatRequest(input.Site!, input.Queue!, name, phone, email, pageUrl, Optional(input.PageTitle, 300, "pageTitle"),
            null, false, Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString());
        var messageId = Guid.NewGuid();
        await grains.GetGrain<ICustomerGrain>(messageId).LeaveMessageAsync(new OfflineMessage(request, text));
        return new LeaveMessageResult(messageId);
    }

    public async Task<ResumeResult> Resume(string resumeToken, long afterSeq)
    {
        if (!TryParseToken(resumeToken, out var sessionId, out var secret))
            throw new HubException($"{ErrorCodes.InvalidToken}: The resume token is not valid.");
        if (Context.Items.TryGetValue(SessionKey, out var bound) && (Guid)bound! != sessionId)
            throw new HubException($"{ErrorCodes.InvalidState}: This connection belongs to another chat.");
        // Verify the token first, then bind: binding first would let a wrong token hear the session's pushes meanwhile.
        var customer = grains.GetGrain<ICustomerGrain>(sessionId);
        var result = await customer.ResumeAsync(secret, afterSeq, endpoint.Reference, Context.ConnectionId);
        await BindAsync(sessionId);
        if (result.Status == SessionStatus.Queued && await customer.GetStatusAsync() == SessionStatus.Connected)
        {
            // An agent accepted between the resume and the bind, and its AgentJoined push found no connection here.
            result = await customer.ResumeAsync(secret, afterSeq, endpoint.Reference, Context.ConnectionId);
            await Clients.Caller.AgentJoined(result.AgentName ?? "");
        }
        if (result is { Status: SessionStatus.Connected, ChannelId: { } channelId })
        {
            // Subscribe, then read what was published while we were subscribing: nothing falls between the two.
            var more = await FollowAsync(sessionId, channelId, result.Events.Count > 0 ? result.Events[^1].Seq : Math.Max(0, afterSeq));
            if (more.Count > 0)
                result = result with { Events = [.. result.Events, .. more] };
        }
        return result;
    }

    /// <summary>Joins this connection to the channel, then reads the events after <paramref name="last"/>
    /// (<see cref="ChannelFanout.FollowAsync"/>).</summary>
    private Task<IReadOnlyList<ChannelEvent>> FollowAsync(Guid sessionId, Guid channelId, long last)
    {
        var channel = grains.GetGrain<IChannelGrain>(channelId);
        var me = Me(sessionId);
        return fanout.FollowAsync(channelId, [(Context.ConnectionId, ChannelFanout.Listener.Customer(sessionId, GatewayOrigin()))], last,
            after => channel.GetEventsAsync(me, after));
    }

    public async Task<SendResult> SendMessage(string text, string clientMessageId)
    {
        InputRules.RequireClientMessageId(clientMessageId);
        var messageText = InputRules.RequireMessageText(text);
        var session = Session();
        var sessionId = session.GetPrimaryKey();
        // Once this connection follows the session's chat, a message goes straight to the channel, which knows its members
        // and whether the chat is open (one grain call instead of two, as an agent's message); before that, the session
        // answers why nothing can be sent yet.
        if (fanout.CustomerChannel(Context.ConnectionId, sessionId) is { } channelId)
        {
            try
            {
                var stored = await Hosting.TransientRetry.OnceAsync((Channel: grains.GetGrain<IChannelGrain>(channelId), From: Me(sessionId), Text: messageText, Id: clientMessageId),
                    static s => s.Channel.PostMessageAsync(s.From, s.Text, s.Id));
                await fanout.RelaySentAsync(channelId, stored, Context.ConnectionId);
                return new SendResult(stored.Seq, stored);
            }
            catch (SupportGridException e) when (e.Code == ErrorCodes.NotMember)
            {
                // The session left the chat (from another tab, say) before this connection heard: the session says why.
            }
        }
        var posted = await Hosting.TransientRetry.OnceAsync((Session: session, Text: messageText, Id: clientMessageId), static s => s.Session.SendMessageAsync(s.Text, s.Id));
        await fanout.RelaySentAsync(posted.ChannelId, posted.Event, Context.ConnectionId);
        return new SendResult(posted.Event.Seq, posted.Event);
    }

    public Task SetTyping(bool isTyping) => Session().SetTypingAsync(isTyping);

    public async Task EndChat()
    {
        await Session().EndAsync();
        await fanout.LeaveAllAsync(Context.ConnectionId); // out of the channel even when the others chat on
    }

    public override async Task OnDisconnectedAsync(Exception? exception)
    {
        // The customer grain keeps this gateway as a push target: a reload usually comes back here, and a push to a
        // gateway with no connection of the session is dropped by the gateway (the grain bounds its list of gateways).
        // Detaching here would race with that reload's Resume and could drop the session's next push.
        await fanout.LeaveAllAsync(Context.ConnectionId);
        registry.UnbindCustomer(Context.ConnectionId);
        if (Context.Items.TryGetValue(SessionKey, out var id) && id is Guid sessionId)
            await grains.GetGrain<ICustomerGrain>(sessionId).DisconnectedAsync(Context.ConnectionId);
        await base.OnDisconnectedAsync(exception);
    }

    private async Task BindAsync(Guid sessionId)
    {
        Context.Items[SessionKey] = sessionId;
        registry.BindCustomer(Context.ConnectionId, sessionId, GatewayOrigin());
        await Groups.AddToGroupAsync(Context.ConnectionId, HubGroups.Session(sessionId));
    }

    private async Task UnbindAsync(Guid sessionId)
    {
        Context.Items.Remove(SessionKey);
        registry.UnbindCustomer(Context.ConnectionId);
        await Groups.RemoveFromGroupAsync(Context.ConnectionId, HubGroups.Session(sessionId));
    }

    private ICustomerGrain Session() =>
        Context.Items.TryGetValue(SessionKey, out var id) && id is Guid sessionId
            ? grains.GetGrain<ICustomerGrain>(sessionId)
            : throw new HubException($"{ErrorCodes.UnknownSession}: Start or resume a chat first.");

    private static MemberRef Me(Guid sessionId) => new(Roles.Customer, sessionId.ToString(), "");

    private string GatewayOrigin()
    {
        var request = Context.GetHttpContext()?.Request;
        return request is null ? "" : $"{request.Scheme}://{request.Host}";
    }

    private ChatRequest Validate(StartChatInput input)
    {
        RequireQueue(input.Site, input.Queue);
        var name = RequireName(input.Name);
        var pageUrl = InputRules.RequireNavigableUrl(input.PageUrl).AbsoluteUri;
        var phone = Optional(input.Phone, 40, "phone");
        var email = Optional(input.Email, 254, "email");
        var title = Optional(input.PageTitle, 300, "pageTitle");
        var customerId = Optional(input.CustomerId, 200, "customerId");
        var tier = Optional(input.CustomerTier, 40, "customerTier");
        var verified = sites.VerifyCustomerId(input.Site!, customerId, tier, input.CustomerIdSignature);
        var ip = Context.GetHttpContext()?.Connection.RemoteIpAddress?.ToString();
        return new ChatRequest(input.Site!, input.Queue!, name, phone, email, pageUrl, title, customerId, verified, ip, verified ? tier : null);
    }

    private void RequireQueue(string? site, string? queue)
    {
        if (sites.Find(site) is not { } config)
            throw new HubException($"{ErrorCodes.InvalidInput}: Unknown site '{Truncate(site)}'.");
        if (string.IsNullOrEmpty(queue) || !config.Queues.Contains(queue))
            throw new HubException($"{ErrorCodes.InvalidInput}: Site '{site}' has no queue '{Truncate(queue)}'.");
    }

    private static string RequireName(string? value)
    {
        var name = value?.Trim();
        return string.IsNullOrEmpty(name) || name.Length > InputRules.MaxNameLength
            ? throw new HubException($"{ErrorCodes.InvalidInput}: A name of 1 to {InputRules.MaxNameLength} characters is required.")
            : name;
    }

    private static string? Optional(string? value, int max, string field)
    {
        var trimmed = value?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            return null;
        return trimmed.Length <= max
            ? trimmed
            : throw new HubException($"{ErrorCodes.InvalidInput}: {field} is longer than {max} characters.");
    }

    private static string? Truncate(string? value) => value is { Length: > 40 } ? value[..40] + "…" : value;

    internal static bool TryParseToken(string? token, out Guid sessionId, out string secret)
    {
        sessionId = Guid.Empty;
        secret = "";
        var dot = token?.IndexOf('.') ?? -1;
        if (dot != 32 || token!.Length > 200 || !Guid.TryParseExact(token[..dot], "N", out sessionId))
            return false;
        secret = token[(dot + 1)..];
        return secret.Length > 0;
    }
}
