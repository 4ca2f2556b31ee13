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
    }

    private IAsyncStream<ChannelStreamItem> Stream => _stream ??= this.GetStreamProvider(StreamNames.Provider)
        .GetStream<ChannelStreamItem>(StreamId.Create(StreamNames.ChannelNamespace, this.GetPrimaryKey()));

    public async Task<IReadOnlyList<ChannelEvent>> OpenAsync(ChannelOpening opening)
    {
        if (S.Members.Count > 0)
            return _events.ToList();
        S.Site = opening.Site;
        S.Queue = opening.Queue;
        S.Members = [opening.Customer, opening.Agent];
        S.CurrentUrl = opening.PageUrl;
        var joined = Append(EventTypes.Joined, opening.Agent.AsParticipant(), $"{opening.Agent.Name} joined the chat.", null);
        await SaveAsync(header: true);
        await PublishAsync(joined);
        return _events.ToList();
    }

    public async Task<long> PostMessageAsync(MemberRef from, string text, string clientMessageId)
    {
        var member = RequireMember(from);
        InputRules.RequireClientMessageId(clientMessageId);
        var key = member.Id + "\n" + clientMessageId;
        if (_clientMessageIds.TryGetValue(key, out var existing))
            return existing;
        RequireOpen();
        var message = Append(EventTypes.Message, member.AsParticipant(), InputRules.RequireMessageText(text), null, key);
        await SaveAsync(header: false);
        await PublishAsync(message);
        return message.Seq;
    }

    public async Task<long> NavigateAsync(MemberRef from, string url)
    {
        var member = RequireMember(from);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.NotMember, "Only an agent can send customers to a page.");
        var target = InputRules.RequireNavigableUrl(url);
        RequireOpen();
        var navigate = Append(EventTypes.Navigate, member.AsParticipant(), null, target.AbsoluteUri);
        S.CurrentUrl = target.AbsoluteUri;
        await SaveAsync(header: true);
        await PublishAsync(navigate);
        return navigate.Seq;
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
        RequireMember(who);
        var skip = (int)Math.Clamp(afterSeq, 0, _events.Count);
        return Task.FromResult<IReadOnlyList<ChannelEvent>>(_events.GetRange(skip, _events.Count - skip));
    }

    private ChannelEvent Append(string type, Participant from, string? text, string? url, string? clientMessageKey = null)
    {
        if (_events.Count >= options.Value.MaxChannelEvents)
            throw new SupportGridException(ErrorCodes.InvalidState, $"This chat has reached its limit of {options.Value.MaxChannelEvents} events.");
        var evt = new ChannelEvent(_events.Count + 1, type, from, text, url, time.GetUtcNow());
        Store(evt, clientMessageKey);
        return evt;
    }

    private void Store(ChannelEvent evt, string? clientMessageKey)
    {
        _events.Add(evt);
        var page = _pages.Change((evt.Seq - 1) / ChannelEventPage.Size);
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
