using System.Diagnostics;
using Microsoft.Extensions.Options;
using Orleans.Streams;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;

namespace SupportGrid.Grains.Channel;

/*
 * Store, then publish
 * -------------------
 * Every event gets the next sequence number and is written to the channel's state before it is published on the
 * channel's stream. Streams are the fast path (one delivery per gateway holding a member, which relays to its
 * connections); the state is the truth. A memory-stream event can be lost with a silo, and a gateway subscribes only
 * after it learns of the channel, so clients treat sequence numbers as the contract: they ignore what they have and
 * fetch what they miss (Resume / GetEvents with the last number seen).
 *
 * Several customers
 * -----------------
 * An agent's join code brings further customers into the channel, each with a session of their own. A broadcast is still
 * one event on the channel's stream: each gateway relays it to its own members, so nothing here is done per customer but
 * bookkeeping in memory. A navigation for one customer is an ordinary event with its session id in To; every widget sees
 * it and only that customer's applies it. A customer who leaves does not end the channel while another customer and an
 * agent remain; the last customer leaving, or an agent ending it, ends it for everyone.
 *
 * Presence (where each customer's page is, and whether they followed the last navigation sent to them) is kept in
 * memory and published on the stream for the agents, never stored: every widget reports again after each page load.
 */
public sealed class ChannelGrain(
    [PersistentState("channel", GrainStorage.Name)] IPersistentState<ChannelState> state,
    IOptions<FlowOptions> options,
    SessionRecorder records,
    TimeProvider time) : Grain, IChannelGrain
{
    private ChannelState S => state.State;
    private IAsyncStream<ChannelStreamItem>? _stream;
    private readonly List<ChannelEvent> _events = [];
    private readonly Dictionary<string, long> _clientMessageIds = [];
    private StatePages<ChannelEventPage> _pages = null!;
    private readonly Dictionary<string, CustomerPresence> _presence = [];
    // The latest page activity of each kind per customer (in memory, never stored): an agent who joins, or whose console
    // opens or reloads, starts with where the customer is on the page rather than waiting for them to move.
    private readonly Dictionary<string, Dictionary<string, CustomerActivity>> _activity = [];
    // Who watches each customer's live page view (agent ids): in the channel's record, written when it changes (rarely).
    private Dictionary<Guid, HashSet<string>> _viewers => S.Viewers;

    /// <summary>Most customers in one channel (a guided tour or a product demo for a large audience).</summary>
    public const int MaxCustomers = 5000;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _pages = new StatePages<ChannelEventPage>(ServiceProvider, this.GetGrainId(), "channel-events");
        for (long number = 0; await _pages.LoadAsync(number); number++)
        {
        }
        foreach (var (_, page) in _pages.All())
        {
            _events.AddRange(page.Events);
            foreach (var (key, seq) in page.ClientMessageIds)
                _clientMessageIds[key] = seq;
        }
        if (S.Events.Count > 0)
        {
            // Stored by the first version, all in one record: move to pages.
            var keysBySeq = S.ClientMessageIds.ToLookup(k => k.Value, k => k.Key);
            foreach (var evt in S.Events.Skip(_events.Count))
                Store(evt, keysBySeq[evt.Seq].FirstOrDefault());
            S.Events = [];
            S.ClientMessageIds = [];
            await SaveAsync(header: true);
        }
        if (_events.LastOrDefault(e => e.Type == EventTypes.Navigate && e.To is null) is { Url: { } current })
            S.CurrentUrl = current; // NavigateAsync does not write the channel's record for it
        if (S.Ended)
            LingerThenDeactivate(); // woken to read an ended chat's transcript
    }

    private IGrainTimer? _linger;

    /// <summary>An ended chat leaves memory after <see cref="FlowOptions.EndedLinger"/> (it is all in storage).</summary>
    private void LingerThenDeactivate() => _linger ??= this.LingerThen(options.Value.EndedLinger, DeactivateOnIdle);

    private IAsyncStream<ChannelStreamItem> Stream => _stream ??= this.GetStreamProvider(StreamNames.Provider)
        .GetStream<ChannelStreamItem>(StreamId.Create(StreamNames.ChannelNamespace, this.GetPrimaryKey()));

    public async Task<IReadOnlyList<ChannelEvent>> OpenAsync(ChannelOpening opening)
    {
        if (S.Members.Count > 0)
            return _events.ToList();
        S.Site = opening.Site;
        S.Queue = opening.Queue;
        S.PageSize = ChannelEventPage.Size;
        S.Members = [opening.Customer, opening.Agent];
        S.CurrentUrl = opening.PageUrl;
        _presence[opening.Customer.Id] = Presence(opening.Customer) with { PageUrl = opening.PageUrl };
        Append(EventTypes.Joined, opening.Agent.AsParticipant(), $"{opening.Agent.Name} joined the chat.", null);
        await SaveAsync(header: true);
        // Not published: the accepting agent made up this channel's id a moment ago, so nobody can follow it yet; the agent
        // has the event in the answer and the customer reads it as they join. (A stream event costs a queue hop and, as the
        // stream's first, a pub-sub lookup: per routed chat.)
        return _events.ToList();
    }

    public async Task<ChannelEvent> PostMessageAsync(MemberRef from, string text, string clientMessageId)
    {
        var member = RequireMember(from);
        InputRules.RequireClientMessageId(clientMessageId);
        var key = member.Id + "\n" + clientMessageId;
        if (_clientMessageIds.TryGetValue(key, out var existing))
            return _events[(int)existing - 1];
        RequireOpen();
        // A customer waiting in the chat for its next agent (after a transfer) waits to write too, as one waiting in a queue
        // does (the customer grain says the same before a first agent joined).
        if (member.Role == Roles.Customer && !S.Members.Any(m => m.Role == Roles.Agent))
            throw new SupportGridException(ErrorCodes.InvalidState, "No agent has joined yet; your message can be sent once one does.");
        var message = Append(EventTypes.Message, member.AsParticipant(), InputRules.RequireMessageText(text), null, key);
        var started = Stopwatch.GetTimestamp();
        await SaveAsync(header: false);
        var stored = Stopwatch.GetTimestamp();
        await PublishAsync(message);
        SupportGridMetrics.ChannelEventSent(started, stored, Stopwatch.GetTimestamp());
        return message;
    }

    public async Task<long> NavigateAsync(MemberRef from, string url)
    {
        var member = RequireMember(from);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent can send customers to a page.");
        var target = InputRules.RequireNavigableUrl(url);
        RequireOpen();
        var navigate = Append(EventTypes.Navigate, member.AsParticipant(), null, target.AbsoluteUri);
        // Only the event is written: the current page is the last navigation of everyone (read back at activation),
        // so a broadcast costs one storage write before it goes out.
        S.CurrentUrl = target.AbsoluteUri;
        var started = Stopwatch.GetTimestamp();
        await SaveAsync(header: false);
        var stored = Stopwatch.GetTimestamp();
        foreach (var customer in Customers())
            MarkPending(customer, navigate);
        await PublishAsync(navigate);
        SupportGridMetrics.ChannelEventSent(started, stored, Stopwatch.GetTimestamp());
        return navigate.Seq;
    }

    public async Task<long> NavigateCustomerAsync(MemberRef from, Guid sessionId, string url)
    {
        var member = RequireMember(from);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent can send customers to a page.");
        var target = InputRules.RequireNavigableUrl(url);
        RequireOpen();
        var customer = Customers().FirstOrDefault(c => c.Id == sessionId.ToString())
            ?? throw new SupportGridException(ErrorCodes.NotMember, "That customer is not in this chat.");
        var navigate = Append(EventTypes.Navigate, member.AsParticipant(), null, target.AbsoluteUri, to: customer.Id);
        await SaveAsync(header: false);
        MarkPending(customer, navigate);
        await PublishAsync(navigate);
        return navigate.Seq;
    }

    public async Task<JoinCode> CreateJoinCodeAsync(MemberRef agent, TimeSpan lifetime)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent of the chat can invite customers into it.");
        RequireOpen();
        if (lifetime <= TimeSpan.Zero || lifetime > TimeSpan.FromDays(7))
            throw new SupportGridException(ErrorCodes.InvalidInput, "A join code lasts more than no time and at most 7 days.");
        var expiresAt = time.GetUtcNow() + lifetime;
        var target = new JoinCodeTarget(this.GetPrimaryKey(), S.Site, S.Queue, member.Id, member.Name);
        for (var attempt = 0; attempt < 5; attempt++)
        {
            var code = NewCode();
            if (await GrainFactory.GetGrain<IJoinCodeGrain>(code).RegisterAsync(target, expiresAt))
                return new JoinCode(JoinCodes.Display(code), this.GetPrimaryKey(), expiresAt, JoinUrl(code));
        }
        throw new SupportGridException(ErrorCodes.InvalidState, "No free join code was found; try again.");
    }

    public async Task<IReadOnlyList<ChannelEvent>> AddCustomerAsync(MemberRef customer)
    {
        if (customer.Role != Roles.Customer)
            throw new SupportGridException(ErrorCodes.InvalidInput, "Only customers join a channel with a code.");
        if (S.Members.Any(m => m.Role == Roles.Customer && m.Id == customer.Id))
            return _events.ToList();
        RequireOpen();
        if (Customers().Count() >= MaxCustomers)
            throw new SupportGridException(ErrorCodes.InvalidState, $"This chat already has {MaxCustomers} customers.");
        S.Members.Add(customer);
        _presence[customer.Id] = Presence(customer);
        var joined = Append(EventTypes.Joined, customer.AsParticipant(), $"{customer.Name} joined the chat.", null);
        await SaveAsync(header: true);
        await PublishAsync(joined);
        return _events.ToList();
    }

    public async Task<bool> CustomerLeaveAsync(MemberRef customer)
    {
        var member = RequireMember(customer);
        if (member.Role != Roles.Customer)
            throw new SupportGridException(ErrorCodes.InvalidInput, "Only a customer leaves this way; an agent leaves or ends the chat.");
        if (S.Ended)
            return true;
        // With no agent the others wait together for the next one after a transfer (one of them holds the place in the
        // queue): they stay too.
        if (!Customers().Any(c => c.Id != member.Id))
        {
            await EndAsync(member, $"{member.Name} ended the chat.");
            return true;
        }
        await RemoveCustomerAsync(member, $"{member.Name} left the chat.");
        return false;
    }

    public async Task<IReadOnlyList<Guid>> HandOverWaitAsync(MemberRef customer, string reason)
    {
        if (S.Ended)
            return [];
        var member = S.Members.FirstOrDefault(m => m.Role == Roles.Customer && m.Id == customer.Id);
        var others = MemberRef.CustomerSessions(Customers().Where(c => c.Id != customer.Id));
        if (others.Count == 0)
            await EndAsync(new MemberRef(Roles.System, "system", "SupportGrid"), reason);
        else if (member is not null) // absent: a retry after it was removed
            await RemoveCustomerAsync(member, reason);
        return others;
    }

    private async Task RemoveCustomerAsync(MemberRef member, string text)
    {
        S.Members.Remove(member);
        S.FormerMembers.Add(member);
        _presence.Remove(member.Id);
        _activity.Remove(member.Id);
        if (Guid.TryParse(member.Id, out var leaving))
            _viewers.Remove(leaving); // their widget stops recording as it leaves the chat
        var left = Append(EventTypes.Left, member.AsParticipant(), text, null);
        await SaveAsync(header: true);
        await PublishAsync(left);
        if (Guid.TryParse(member.Id, out var sessionId))
            records.Record(new TranscriptSaved(sessionId, left.At, this.GetPrimaryKey(), _events.ToList()));
    }

    public async Task ReportPageAsync(MemberRef customer, PageReport report)
    {
        var member = RequireMember(customer);
        if (member.Role != Roles.Customer || S.Ended)
            return;
        var url = InputRules.RequireNavigableUrl(report.Url).AbsoluteUri;
        var title = report.Title?.Trim() is { Length: > 0 } t ? (t.Length > MaxTitleLength ? t[..MaxTitleLength] : t) : null;
        var before = _presence.GetValueOrDefault(member.Id) ?? Presence(member);
        var now = before with { PageUrl = url, PageTitle = title, Guided = report.Guided };
        // The report settles the navigation it names if that is (still) the last one sent to this customer; after a
        // reactivation (presence is not stored) the named navigation is looked up in the transcript.
        if (report.NavigateSeq >= Math.Max(1, before.NavigateSeq) && report.NavigateSeq <= _events.Count
            && _events[(int)report.NavigateSeq - 1] is { Type: EventTypes.Navigate } navigate
            && (navigate.To is null || navigate.To == member.Id))
        {
            now = now with
            {
                NavigateSeq = navigate.Seq,
                NavigateUrl = navigate.Url,
                Navigation = report.Followed ? NavigationStatus.Followed : NavigationStatus.NotFollowed,
            };
        }
        if (now == before && before.ReportedAt is not null)
            return; // nothing new (a reload of the same page): agents need not hear it again
        now = now with { ReportedAt = time.GetUtcNow() };
        _presence[member.Id] = now;
        await Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, null, false, now));
    }

    public Task PageActivityAsync(MemberRef customer, PageActivity activity)
    {
        var member = RequireMember(customer);
        if (member.Role != Roles.Customer || S.Ended || !Guid.TryParse(member.Id, out var sessionId))
            return Task.CompletedTask;
        var relayed = new CustomerActivity(sessionId, member.Name, activity, time.GetUtcNow());
        if (!_activity.TryGetValue(member.Id, out var latest))
            _activity[member.Id] = latest = [];
        latest[activity.Kind] = relayed; // kinds are validated by the gateway; at most one of each is kept
        return Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, null, false, null, relayed));
    }

    public Task GuideAsync(MemberRef agent, AgentGuide guide)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent of the chat can guide the customers.");
        RequireOpen();
        if (!AgentGuideKinds.IsValid(guide.Kind))
            throw new SupportGridException(ErrorCodes.InvalidInput, "kind must be pointer, highlight, scroll or clear.");
        var selector = guide.Kind is AgentGuideKinds.Highlight or AgentGuideKinds.Scroll ? InputRules.RequireSelector(guide.Selector) : null;
        if (guide.Kind == AgentGuideKinds.Pointer && (guide.X is not (>= 0 and <= MaxCoordinate) || guide.Y is not (>= 0 and <= MaxCoordinate)))
            throw new SupportGridException(ErrorCodes.InvalidInput, $"A pointer needs x and y from 0 to {MaxCoordinate}.");
        if (guide.To is { } to && !Customers().Any(c => c.Id == to.ToString()))
            throw new SupportGridException(ErrorCodes.NotMember, "That customer is not in this chat.");
        var relayed = new AgentGuide(guide.Kind, guide.Kind == AgentGuideKinds.Pointer ? guide.X : null, guide.Kind == AgentGuideKinds.Pointer ? guide.Y : null,
            selector, guide.To, member.AsParticipant());
        return Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, null, false, Guide: relayed));
    }

    private const int MaxCoordinate = 1_000_000;

    public Task PageViewAsync(MemberRef customer, PageViewChunk chunk)
    {
        var member = RequireMember(customer);
        if (member.Role != Roles.Customer || S.Ended || !Guid.TryParse(member.Id, out var sessionId))
            return Task.CompletedTask;
        var relayed = new CustomerPageView(sessionId, member.Name, chunk);
        return Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, null, false, PageView: relayed));
    }

    public async Task RequestPageViewAsync(MemberRef agent, Guid sessionId, bool on)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent of the chat can view a customer's page.");
        RequireOpen();
        if (!Customers().Any(c => c.Id == sessionId.ToString()))
            throw new SupportGridException(ErrorCodes.NotMember, "That customer is not in this chat.");
        if (on)
        {
            if (!_viewers.TryGetValue(sessionId, out var viewers))
                _viewers[sessionId] = viewers = [];
            if (viewers.Add(member.Id))
                await SaveAsync(header: true);
        }
        else
        {
            var known = _viewers.ContainsKey(sessionId);
            var stop = Unwatch(sessionId, member.Id);
            if (known)
                await SaveAsync(header: true);
            if (!stop)
                return; // another agent still watches: the recording goes on
        }
        // On: the widget starts recording, or restarts with a fresh full snapshot that the new viewer needs.
        await PublishViewRequestAsync(sessionId, on, member);
    }

    public async Task StopWatchingAsync(MemberRef agent)
    {
        var changed = false;
        var stopped = new List<Guid>();
        foreach (var sessionId in _viewers.Keys.ToList())
        {
            if (!_viewers[sessionId].Contains(agent.Id))
                continue;
            changed = true;
            if (Unwatch(sessionId, agent.Id))
                stopped.Add(sessionId);
        }
        if (!changed)
            return;
        await SaveAsync(header: true);
        if (S.Ended)
            return;
        foreach (var sessionId in stopped)
            await PublishViewRequestAsync(sessionId, false, agent);
    }

    /// <summary>Removes one viewer of a customer's page; true if nobody watches it any more (and somebody did).</summary>
    private bool Unwatch(Guid sessionId, string agentId)
    {
        if (!_viewers.TryGetValue(sessionId, out var viewers))
            return true; // nobody known to watch (e.g. after a reactivation): stopping is harmless
        if (!viewers.Remove(agentId) || viewers.Count > 0)
            return false;
        _viewers.Remove(sessionId);
        return true;
    }

    private Task PublishViewRequestAsync(Guid sessionId, bool on, MemberRef by) =>
        Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, null, false,
            ViewRequest: new PageViewRequest(sessionId, on, by.AsParticipant())));

    public Task<IReadOnlyList<CustomerPresence>> GetCustomersAsync(MemberRef agent)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only agents see where the customers are.");
        return Task.FromResult<IReadOnlyList<CustomerPresence>>(
            Customers().Select(c => (_presence.GetValueOrDefault(c.Id) ?? Presence(c)) with
            {
                Activity = _activity.TryGetValue(c.Id, out var latest) ? latest.Values.ToList() : null,
            }).ToList());
    }

    private const int MaxTitleLength = 300;

    private IEnumerable<MemberRef> Customers() => S.Members.Where(m => m.Role == Roles.Customer);

    private CustomerPresence Presence(MemberRef customer) =>
        new(Guid.TryParse(customer.Id, out var id) ? id : Guid.Empty, customer.Name, null, null, null, 0, null, null);

    private void MarkPending(MemberRef customer, ChannelEvent navigate)
    {
        var before = _presence.GetValueOrDefault(customer.Id) ?? Presence(customer);
        _presence[customer.Id] = before with { NavigateSeq = navigate.Seq, NavigateUrl = navigate.Url, Navigation = NavigationStatus.Pending };
    }

    /// <summary>The channel's current page with <c>sg-join={code}</c> added: the link customers open to join.</summary>
    private string? JoinUrl(string code)
    {
        if (S.CurrentUrl is null || !Uri.TryCreate(S.CurrentUrl, UriKind.Absolute, out var page))
            return null;
        var builder = new UriBuilder(page) { Fragment = "" };
        var query = builder.Query.TrimStart('?');
        builder.Query = (query.Length > 0 ? query + "&" : "") + "sg-join=" + JoinCodes.Display(code);
        return builder.Uri.AbsoluteUri;
    }

    private static string NewCode()
    {
        Span<char> code = stackalloc char[JoinCodes.Length];
        for (var i = 0; i < code.Length; i++)
            code[i] = JoinCodes.Alphabet[System.Security.Cryptography.RandomNumberGenerator.GetInt32(JoinCodes.Alphabet.Length)];
        return new string(code);
    }

    public Task SetTypingAsync(MemberRef from, bool isTyping)
    {
        var member = RequireMember(from);
        return S.Ended
            ? Task.CompletedTask
            : Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, null, member.AsParticipant(), isTyping));
    }

    public async Task<IReadOnlyList<ChannelEvent>> JoinAsync(MemberRef agent)
    {
        RequireOpen();
        if (agent.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.InvalidInput, "Only agents join a channel this way.");
        if (!S.Members.Any(m => m.Role == Roles.Agent && m.Id == agent.Id))
        {
            S.Members.Add(agent);
            var joined = Append(EventTypes.Joined, agent.AsParticipant(), $"{agent.Name} joined the chat.", null);
            await SaveAsync(header: true);
            await PublishAsync(joined);
        }
        return _events.ToList();
    }

    public async Task LeaveAsync(MemberRef agent, string reason)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.InvalidInput, "A customer ends the chat rather than leaving it.");
        S.Members.Remove(member);
        if (S.Ended)
        {
            await SaveAsync(header: true);
            return;
        }
        var left = Append(EventTypes.Left, member.AsParticipant(), reason, null);
        await SaveAsync(header: true);
        await PublishAsync(left);
        await StopWatchingAsync(member); // what only this agent watched stops recording
    }

    public async Task EndAsync(MemberRef by, string reason)
    {
        if (by.Role != Roles.System)
            RequireMember(by);
        if (S.Ended)
        {
            // Ending again (a retry after a failure) tells the members again: the notices are idempotent.
            await NotifyMembersEndedAsync(_events[^1]);
            return;
        }
        S.Ended = true;
        var ended = Append(EventTypes.Ended, by.AsParticipant(), reason, null);
        await SaveAsync(header: true);
        await PublishAsync(ended);
        await NotifyMembersEndedAsync(ended);
        LingerThenDeactivate();
    }

    private async Task NotifyMembersEndedAsync(ChannelEvent ended)
    {
        var reason = ended.Text ?? "The chat ended.";
        // Tell every member and wait for them: the customer closes its session (and its record), the agent frees capacity.
        // Both interleave with a call of theirs that may be waiting on this one.
        var channelId = this.GetPrimaryKey();
        var told = new List<Task>();
        foreach (var member in S.Members)
        {
            if (member.Role == Roles.Customer && Guid.TryParse(member.Id, out var sessionId))
            {
                records.Record(new TranscriptSaved(sessionId, ended.At, channelId, _events.ToList()));
                told.Add(GrainFactory.GetGrain<ICustomerGrain>(sessionId).ChannelEndedAsync(channelId, reason));
            }
            else if (member.Role == Roles.Agent)
            {
                told.Add(GrainFactory.GetGrain<IAgentGrain>(member.Id).ChannelEndedAsync(channelId));
            }
        }
        await Task.WhenAll(told);
    }

    public Task<IReadOnlyList<MemberRef>> GetMembersAsync(MemberRef who)
    {
        RequireMember(who);
        return Task.FromResult<IReadOnlyList<MemberRef>>(S.Members.ToList());
    }

    public Task<IReadOnlyList<ChannelEvent>> GetEventsAsync(MemberRef who, long afterSeq)
    {
        if (!S.FormerMembers.Any(m => m.Role == who.Role && m.Id == who.Id))
            RequireMember(who);
        var skip = (int)Math.Clamp(afterSeq, 0, _events.Count);
        return Task.FromResult<IReadOnlyList<ChannelEvent>>(_events.GetRange(skip, _events.Count - skip));
    }

    private ChannelEvent Append(string type, Participant from, string? text, string? url, string? clientMessageKey = null, string? to = null)
    {
        if (_events.Count >= options.Value.MaxChannelEvents)
            throw new SupportGridException(ErrorCodes.InvalidState, $"This chat has reached its limit of {options.Value.MaxChannelEvents} events.");
        var evt = new ChannelEvent(_events.Count + 1, type, from, text, url, time.GetUtcNow(), to);
        Store(evt, clientMessageKey);
        return evt;
    }

    private void Store(ChannelEvent evt, string? clientMessageKey)
    {
        _events.Add(evt);
        var page = _pages.Change((evt.Seq - 1) / (S.PageSize > 0 ? S.PageSize : ChannelEventPage.LegacySize));
        page.Events.Add(evt);
        if (clientMessageKey is not null)
            page.ClientMessageIds[clientMessageKey] = _clientMessageIds[clientMessageKey] = evt.Seq;
    }

    /// <summary>Writes the changed event pages, then (if members, page or end changed) the channel's own record.</summary>
    private async Task SaveAsync(bool header)
    {
        await _pages.WriteChangedAsync(_ => false);
        if (header)
            await state.WriteStateAsync();
    }

    // The grain is not reentrant and every event is published in the turn that stored it (all but a new channel's first,
    // which nobody can follow yet), so the probe lands between the events up to the last sequence number and the next.
    public Task ProbeAsync(Guid probe) => Stream.OnNextAsync(ChannelStreamItem.ProbeFor(this.GetPrimaryKey(), probe, _events.Count));

    private Task PublishAsync(ChannelEvent evt) =>
        Stream.OnNextAsync(new ChannelStreamItem(this.GetPrimaryKey(), S.Site, evt, null, false));

    private MemberRef RequireMember(MemberRef who) =>
        S.Members.FirstOrDefault(m => m.Role == who.Role && m.Id == who.Id)
        ?? throw new SupportGridException(ErrorCodes.NotMember, "You are not a member of this chat.");

    private void RequireOpen()
    {
        if (S.Ended)
            throw new SupportGridException(ErrorCodes.ChannelEnded, "This chat has ended.");
    }
}
