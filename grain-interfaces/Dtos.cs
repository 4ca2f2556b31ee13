namespace SupportGrid.GrainInterfaces;

/// <summary>What a shopper's widget sends when they ask for help, plus what the gateway adds (IP).</summary>
[GenerateSerializer, Immutable, Alias("sg.ChatRequest")]
public sealed record ChatRequest(
    [property: Id(0)] string Site,
    [property: Id(1)] string Queue,
    [property: Id(2)] string Name,
    [property: Id(3)] string? Phone,
    [property: Id(4)] string? Email,
    [property: Id(5)] string PageUrl,
    [property: Id(6)] string? PageTitle,
    [property: Id(7)] string? CustomerId,
    [property: Id(8)] bool CustomerIdVerified,
    [property: Id(9)] string? Ip,
    [property: Id(10)] string? Tier = null);

/// <summary>The customer as an agent sees them.</summary>
[GenerateSerializer, Immutable, Alias("sg.CustomerInfo")]
public sealed record CustomerInfo(
    [property: Id(0)] string Name,
    [property: Id(1)] string? Phone,
    [property: Id(2)] string? Email,
    [property: Id(3)] string? Ip,
    [property: Id(4)] string? CustomerId,
    [property: Id(5)] bool CustomerIdVerified,
    [property: Id(6)] string? Tier = null);

/// <summary>Answer to <c>StartChat</c>.</summary>
[GenerateSerializer, Immutable, Alias("sg.StartChatResult")]
public sealed record StartChatResult(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string ResumeToken,
    [property: Id(2)] int Position);

/// <summary>Answer to <c>Resume</c>: where the session stands and every channel event after the sequence number the client gave.</summary>
[GenerateSerializer, Immutable, Alias("sg.ResumeResult")]
public sealed record ResumeResult(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Status,
    [property: Id(2)] int? Position,
    [property: Id(3)] string? AgentName,
    [property: Id(4)] Guid? ChannelId,
    [property: Id(5)] IReadOnlyList<ChannelEvent> Events,
    [property: Id(6)] string Site);

/// <summary>Who did something in a channel.
/// <c>Id</c> is set for customers only (their session id), so that each customer of a channel with several tells its own
/// messages from the others' and an agent can address one of them.</summary>
[GenerateSerializer, Immutable, Alias("sg.Participant")]
public sealed record Participant(
    [property: Id(0)] string Role,
    [property: Id(1)] string Name,
    [property: Id(2)] string? Id = null);

/// <summary>
/// One event of a channel. Every event has a per-channel sequence number (1, 2, 3, ...) with no gaps,
/// so a client that reconnects asks for everything after the last number it saw. <c>To</c>: the session id of the one
/// customer a navigation is for (<c>NavigateCustomer</c>); null when it is for every customer of the channel.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.ChannelEvent")]
public sealed record ChannelEvent(
    [property: Id(0)] long Seq,
    [property: Id(1)] string Type,
    [property: Id(2)] Participant From,
    [property: Id(3)] string? Text,
    [property: Id(4)] string? Url,
    [property: Id(5)] DateTimeOffset At,
    [property: Id(6)] string? To = null);

/// <summary>A customer's chat message as its channel stored it, with that channel.</summary>
[GenerateSerializer, Immutable, Alias("sg.SentMessage")]
public sealed record SentMessage(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] ChannelEvent Event);

/// <summary>A member of a channel as the grains identify it: role plus id (agent id, or session id for a customer).</summary>
[GenerateSerializer, Immutable, Alias("sg.MemberRef")]
public sealed record MemberRef(
    [property: Id(0)] string Role,
    [property: Id(1)] string Id,
    [property: Id(2)] string Name)
{
    public Participant AsParticipant() => new(Role, Name, Role == Roles.Customer ? Id : null);

    /// <summary>The session ids of the customers among <paramref name="members"/> (a customer's id is their session id).</summary>
    public static List<Guid> CustomerSessions(IEnumerable<MemberRef> members) =>
        [.. members.Where(m => m.Role == Roles.Customer).Select(m => Guid.TryParse(m.Id, out var id) ? id : Guid.Empty).Where(id => id != Guid.Empty)];
}

/// <summary>A waiting customer's new place in its queue (see <see cref="IGatewayObserver.QueuePositionsAsync"/>).</summary>
[GenerateSerializer, Immutable, Alias("sg.QueuePositionUpdate")]
public sealed record QueuePositionUpdate(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] int Position,
    [property: Id(2)] int EstimatedWaitSeconds);

/// <summary>A chat offered to one agent, with a deadline after which it goes to the next agent.</summary>
[GenerateSerializer, Immutable, Alias("sg.ChatOffer")]
public sealed record ChatOffer(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Queue,
    [property: Id(2)] CustomerInfo Customer,
    [property: Id(3)] string PageUrl,
    [property: Id(4)] string? PageTitle,
    [property: Id(5)] int WaitedSeconds,
    [property: Id(6)] DateTimeOffset ExpiresAt,
    [property: Id(7)] TransferInfo? Transfer = null);

/// <summary>One customer waiting in a queue.</summary>
[GenerateSerializer, Immutable, Alias("sg.QueueEntry")]
public sealed record QueueEntry(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] CustomerInfo Customer,
    [property: Id(2)] string PageUrl,
    [property: Id(3)] string? PageTitle,
    [property: Id(4)] DateTimeOffset EnqueuedAt,
    [property: Id(5)] string? PreferredAgentId = null,
    [property: Id(6)] DateTimeOffset? PreferUntil = null,
    [property: Id(7)] Guid? ChannelId = null,
    [property: Id(8)] TransferInfo? Transfer = null,
    [property: Id(9)] DateTimeOffset? QueuedAt = null)
{
    /// <summary>When the customer entered this queue (a transfer or an overflow starts a new wait); the request time if not set.</summary>
    public DateTimeOffset WaitingSince => QueuedAt ?? EnqueuedAt;
}

/// <summary>Why a customer is waiting again: an agent transferred them, with a note for the next agent. <paramref name="TransferId"/>
/// names this one transfer, so that a retry of it (its answer was lost with a silo) is known as done, not refused or repeated.</summary>
[GenerateSerializer, Immutable, Alias("sg.TransferInfo")]
public sealed record TransferInfo(
    [property: Id(0)] string FromAgent,
    [property: Id(1)] string? Note,
    [property: Id(2)] string FromAgentId,
    [property: Id(3)] Guid TransferId = default);

/// <summary>An agent as configured: who they are, which queues they serve and how many chats they can hold.</summary>
[GenerateSerializer, Immutable, Alias("sg.AgentProfile")]
public sealed record AgentProfile(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] int Capacity,
    [property: Id(3)] IReadOnlyList<string> Queues,
    [property: Id(4)] IReadOnlyDictionary<string, int>? Skills = null);

/// <summary>An agent's open chat.</summary>
[GenerateSerializer, Immutable, Alias("sg.ActiveChat")]
public sealed record ActiveChat(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] Guid SessionId,
    [property: Id(2)] string Queue,
    [property: Id(3)] CustomerInfo Customer,
    [property: Id(4)] string PageUrl,
    [property: Id(5)] IReadOnlyList<ChannelEvent> Events);

/// <summary>Answer to an agent's <c>AcceptOffer</c>.</summary>
[GenerateSerializer, Immutable, Alias("sg.AcceptResult")]
public sealed record AcceptResult(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] Guid SessionId,
    [property: Id(2)] CustomerInfo Customer,
    [property: Id(3)] string PageUrl,
    [property: Id(4)] IReadOnlyList<ChannelEvent> Events);

/// <summary>Everything an agent console needs after (re)connecting.</summary>
[GenerateSerializer, Immutable, Alias("sg.AgentSnapshot")]
public sealed record AgentSnapshot(
    [property: Id(0)] string AgentId,
    [property: Id(1)] string DisplayName,
    [property: Id(2)] string Status,
    [property: Id(3)] int Capacity,
    [property: Id(4)] IReadOnlyList<ChatOffer> Offers,
    [property: Id(5)] IReadOnlyList<ActiveChat> Chats,
    [property: Id(6)] IReadOnlyList<ChatInvitation> Invitations);

/// <summary>An agent in a chat asks a colleague to join it (a second agent in the channel).</summary>
[GenerateSerializer, Immutable, Alias("sg.ChatInvitation")]
public sealed record ChatInvitation(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] Guid SessionId,
    [property: Id(2)] string Queue,
    [property: Id(3)] CustomerInfo Customer,
    [property: Id(4)] string PageUrl,
    [property: Id(5)] string FromAgentId,
    [property: Id(6)] string FromAgent,
    [property: Id(7)] string? Note,
    [property: Id(8)] DateTimeOffset ExpiresAt);

/// <summary>What a channel opens with.</summary>
[GenerateSerializer, Immutable, Alias("sg.ChannelOpening")]
public sealed record ChannelOpening(
    [property: Id(0)] string Site,
    [property: Id(1)] string Queue,
    [property: Id(2)] MemberRef Customer,
    [property: Id(3)] MemberRef Agent,
    [property: Id(4)] string PageUrl);

/// <summary>
/// What a channel publishes on its stream: a stored event, or a transient typing signal or customer presence (where a
/// customer is and whether they followed the last navigation; for agents only) that has no sequence number and is never stored.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.ChannelStreamItem")]
public sealed record ChannelStreamItem(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] string Site,
    [property: Id(2)] ChannelEvent? Event,
    [property: Id(3)] Participant? TypingFrom,
    [property: Id(4)] bool IsTyping,
    [property: Id(5)] CustomerPresence? Presence = null,
    [property: Id(6)] CustomerActivity? Activity = null,
    [property: Id(7)] AgentGuide? Guide = null,
    [property: Id(8)] CustomerPageView? PageView = null,
    [property: Id(9)] PageViewRequest? ViewRequest = null,
    [property: Id(10)] Guid? Probe = null,
    [property: Id(11)] long ProbeAfterSeq = 0)
{
    /// <summary>A marker the channel publishes for a gateway that wants to learn that its new subscription receives the
    /// stream (see ChannelFanout): it follows every event up to <paramref name="afterSeq"/> and precedes every later one.</summary>
    public static ChannelStreamItem ProbeFor(Guid channelId, Guid probe, long afterSeq) =>
        new(channelId, "", null, null, false, Probe: probe, ProbeAfterSeq: afterSeq);
}

/// <summary>A queue as an operator sees it.</summary>
[GenerateSerializer, Immutable, Alias("sg.QueueSnapshot")]
public sealed record QueueSnapshot(
    [property: Id(0)] IReadOnlyList<Guid> Waiting,
    [property: Id(1)] IReadOnlyDictionary<Guid, IReadOnlyList<string>> OfferedTo,
    [property: Id(2)] IReadOnlyDictionary<string, int> AvailableAgentFreeSlots);

/// <summary>Whether a queue takes chats now. <c>Reason</c>: <c>open</c>, <c>closed</c> (outside business hours) or <c>no_agents</c>.</summary>
[GenerateSerializer, Immutable, Alias("sg.QueueAvailability")]
public sealed record QueueAvailability(
    [property: Id(0)] bool Open,
    [property: Id(1)] string Reason,
    [property: Id(2)] string Message);

/// <summary>A message left while a queue was offline.</summary>
[GenerateSerializer, Immutable, Alias("sg.OfflineMessage")]
public sealed record OfflineMessage(
    [property: Id(0)] ChatRequest Request,
    [property: Id(1)] string Text);

/// <summary>How one queue routes, as an admin sets it at runtime (overriding the configuration files). See docs/routing.md.</summary>
[GenerateSerializer, Immutable, Alias("sg.QueueSettings")]
public sealed record QueueSettings(
    [property: Id(0)] string Policy,
    [property: Id(1)] IReadOnlyDictionary<string, int> RequiredSkills,
    [property: Id(2)] TimeSpan? RelaxAfter,
    [property: Id(3)] int RelaxedLevel,
    [property: Id(4)] bool? OfflineWhenNoAgents,
    [property: Id(5)] int OfferToAgents,
    [property: Id(6)] TimeSpan? MaxWait,
    [property: Id(7)] string? OverflowTo,
    [property: Id(8)] int Priority);

/// <summary>A queue's settings in effect, and whether they come from the admin API (else from configuration).</summary>
[GenerateSerializer, Immutable, Alias("sg.QueueSettingsView")]
public sealed record QueueSettingsView(
    [property: Id(0)] string Queue,
    [property: Id(1)] QueueSettings Settings,
    [property: Id(2)] bool SetAtRuntime);

/// <summary>What an admin may change about an agent at runtime; null keeps the configured value.</summary>
[GenerateSerializer, Immutable, Alias("sg.AgentSettings")]
public sealed record AgentSettings(
    [property: Id(0)] string? DisplayName,
    [property: Id(1)] int? Capacity,
    [property: Id(2)] IReadOnlyList<string>? Queues,
    [property: Id(3)] IReadOnlyDictionary<string, int>? Skills);

/// <summary>An agent's profile in effect and the runtime settings applied over the configured one.</summary>
[GenerateSerializer, Immutable, Alias("sg.AgentSettingsView")]
public sealed record AgentSettingsView(
    [property: Id(0)] AgentProfile Profile,
    [property: Id(1)] AgentSettings? SetAtRuntime,
    [property: Id(2)] string Status);

/// <summary>A join code an agent made for one of their channels: customers who open <c>Url</c> (or enter <c>Code</c> in the
/// widget) before <c>ExpiresAt</c> join the channel as further customers, each with a session of their own.</summary>
[GenerateSerializer, Immutable, Alias("sg.JoinCode")]
public sealed record JoinCode(
    [property: Id(0)] string Code,
    [property: Id(1)] Guid ChannelId,
    [property: Id(2)] DateTimeOffset ExpiresAt,
    [property: Id(3)] string? Url);

/// <summary>What a join code leads to: the channel, its site and queue (<c>site/queue</c>), and the agent who made the code.</summary>
[GenerateSerializer, Immutable, Alias("sg.JoinCodeTarget")]
public sealed record JoinCodeTarget(
    [property: Id(0)] Guid ChannelId,
    [property: Id(1)] string Site,
    [property: Id(2)] string Queue,
    [property: Id(3)] string AgentId,
    [property: Id(4)] string AgentName);

/// <summary>Answer to a customer's <c>JoinChat</c>: their own session (keep the token to resume it) in the agent's channel.</summary>
[GenerateSerializer, Immutable, Alias("sg.JoinChatResult")]
public sealed record JoinChatResult(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string ResumeToken,
    [property: Id(2)] Guid ChannelId,
    [property: Id(3)] string AgentName,
    [property: Id(4)] IReadOnlyList<ChannelEvent> Events,
    [property: Id(5)] string Site);

/// <summary>Where a customer's page is, as their widget reports it after each load and each in-page (SPA) navigation.
/// <c>NavigateSeq</c>: the last navigation the widget applied (0 for none); <c>Followed</c>: whether it moved the page
/// for it (false: it showed the target as a link, outside the site's origins or with guiding off); <c>Guided</c>: whether
/// the customer lets the agent guide their browser (they agree at the start and can stop it at any time).</summary>
[GenerateSerializer, Immutable, Alias("sg.PageReport")]
public sealed record PageReport(
    [property: Id(0)] string Url,
    [property: Id(1)] string? Title,
    [property: Id(2)] long NavigateSeq,
    [property: Id(3)] bool Followed,
    [property: Id(4)] bool Guided = true);

/// <summary>
/// One customer of a channel as the agents see them: their current page and what became of the last navigation sent to
/// them (<c>Navigation</c>: null for none, else see <see cref="NavigationStatus"/>). Not stored: widgets report again
/// after every page load.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.CustomerPresence")]
public sealed record CustomerPresence(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Name,
    [property: Id(2)] string? PageUrl,
    [property: Id(3)] string? PageTitle,
    [property: Id(4)] DateTimeOffset? ReportedAt,
    [property: Id(5)] long NavigateSeq,
    [property: Id(6)] string? NavigateUrl,
    [property: Id(7)] string? Navigation,
    [property: Id(8)] bool? Guided = null,
    [property: Id(9)] IReadOnlyList<CustomerActivity>? Activity = null);

/// <summary>
/// Something a customer did on the page, for the agents (never stored). <c>Kind</c> is one of <see cref="PageActivityKinds"/>:
/// <c>scroll</c> (<c>X</c>, <c>Y</c>), <c>viewport</c> (<c>Width</c>, <c>Height</c>), <c>visibility</c> (<c>Visible</c>),
/// <c>click</c> (<c>Selector</c> and the element's visible <c>Text</c>), <c>focus</c> (<c>Selector</c> of the field; never its value).
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.PageActivity")]
public sealed record PageActivity(
    [property: Id(0)] string Kind,
    [property: Id(1)] int? X = null,
    [property: Id(2)] int? Y = null,
    [property: Id(3)] int? Width = null,
    [property: Id(4)] int? Height = null,
    [property: Id(5)] bool? Visible = null,
    [property: Id(6)] string? Selector = null,
    [property: Id(7)] string? Text = null);

/// <summary>A customer's page activity as the agents of the channel receive it.</summary>
[GenerateSerializer, Immutable, Alias("sg.CustomerActivity")]
public sealed record CustomerActivity(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Name,
    [property: Id(2)] PageActivity Activity,
    [property: Id(3)] DateTimeOffset At);

/// <summary>
/// What an agent shows on the customers' pages (never stored): <c>Kind</c> is one of <see cref="AgentGuideKinds"/>. A
/// pointer has <c>X</c>/<c>Y</c> (CSS pixels from the document's top left), a highlight or scroll a CSS <c>Selector</c>.
/// <c>To</c>: the one customer (session id) it is for; null for every customer of the channel. The widget shows it only
/// while the customer lets the agent guide their browser.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.AgentGuide")]
public sealed record AgentGuide(
    [property: Id(0)] string Kind,
    [property: Id(1)] int? X = null,
    [property: Id(2)] int? Y = null,
    [property: Id(3)] string? Selector = null,
    [property: Id(4)] Guid? To = null,
    [property: Id(5)] Participant? From = null);

/// <summary>
/// One piece of a customer's live page view (rrweb events), opaque to the server: <c>State</c> is one of
/// <see cref="PageViewStates"/>. For <c>events</c>, <c>Data</c> is part <c>Part</c> of <c>Parts</c> of batch <c>Seq</c>:
/// base64 of the batch's JSON array of rrweb events, gzip-compressed when <c>Encoding</c> is <c>gzip</c> (else
/// <c>json</c>). Masked values never reach it: the widget records with every input masked. <c>Reason</c>: why a view
/// stopped or was degraded, in a sentence for the agent. Never stored.
/// </summary>
[GenerateSerializer, Immutable, Alias("sg.PageViewChunk")]
public sealed record PageViewChunk(
    [property: Id(0)] string State,
    [property: Id(1)] long Seq = 0,
    [property: Id(2)] int Part = 0,
    [property: Id(3)] int Parts = 0,
    [property: Id(4)] string? Encoding = null,
    [property: Id(5)] string? Data = null,
    [property: Id(6)] string? Reason = null);

/// <summary>A customer's live page view as the agents of the channel receive it.</summary>
[GenerateSerializer, Immutable, Alias("sg.CustomerPageView")]
public sealed record CustomerPageView(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Name,
    [property: Id(2)] PageViewChunk Chunk);

/// <summary>An agent opens (<c>On</c>) or closes a customer's live page view; the customer's widget starts (with a fresh
/// full snapshot) or stops recording.</summary>
[GenerateSerializer, Immutable, Alias("sg.PageViewRequest")]
public sealed record PageViewRequest(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] bool On,
    [property: Id(2)] Participant From);
