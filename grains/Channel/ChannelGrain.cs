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

    private IAsyncStream<ChannelStreamItem> Stream => _stream ??= this.GetStreamProvider(StreamNames.Provider)
        .GetStream<ChannelStreamItem>(StreamId.Create(StreamNames.ChannelNamespace, this.GetPrimaryKey()));

    public async Task<IReadOnlyList<ChannelEvent>> OpenAsync(ChannelOpening opening)
    {
        if (S.Members.Count > 0)
            return S.Events.ToList();
        S.Site = opening.Site;
        S.Queue = opening.Queue;
        S.Members = [opening.Customer, opening.Agent];
        S.CurrentUrl = opening.PageUrl;
        var joined = Append(EventTypes.Joined, opening.Agent.AsParticipant(), $"{opening.Agent.Name} joined the chat.", null);
        await state.WriteStateAsync();
        await PublishAsync(joined);
        return S.Events.ToList();
    }

    public async Task<long> PostMessageAsync(MemberRef from, string text, string clientMessageId)
    {
        var member = RequireMember(from);
        InputRules.RequireClientMessageId(clientMessageId);
        var key = member.Id + "\n" + clientMessageId;
        if (S.ClientMessageIds.TryGetValue(key, out var existing))
            return existing;
        RequireOpen();
        var message = Append(EventTypes.Message, member.AsParticipant(), InputRules.RequireMessageText(text), null);
        S.ClientMessageIds[key] = message.Seq;
        await state.WriteStateAsync();
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
        await state.WriteStateAsync();
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
            await state.WriteStateAsync();
            await PublishAsync(joined);
        }
        return S.Events.ToList();
    }

    public async Task LeaveAsync(MemberRef agent, string reason)
    {
        var member = RequireMember(agent);
        if (member.Role != Roles.Agent)
            throw new SupportGridException(ErrorCodes.InvalidInput, "A customer ends the chat rather than leaving it.");
        S.Members.Remove(member);
        if (S.Ended)
        {
            await state.WriteStateAsync();
            return;
        }
        var left = Append(EventTypes.Left, member.AsParticipant(), reason, null);
        await state.WriteStateAsync();
        await PublishAsync(left);
    }

    public async Task EndAsync(MemberRef by, string reason)
    {
        if (by.Role != Roles.System)
            RequireMember(by);
        if (S.Ended)
        {
            // Ending again (a retry after a failure) tells the members again: the notices are idempotent.
            await NotifyMembersEndedAsync(S.Events[^1]);
            return;
        }
        S.Ended = true;
        var ended = Append(EventTypes.Ended, by.AsParticipant(), reason, null);
        await state.WriteStateAsync();
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
                records.Record(new TranscriptSaved(sessionId, ended.At, channelId, S.Events.ToList()));
                told.Add(GrainFactory.GetGrain<ICustomerGrain>(sessionId).ChannelEndedAsync(channelId, reason));
            }
            else if (member.Role == Roles.Agent)
            {
                told.Add(GrainFactory.GetGrain<IAgentGrain>(member.Id).ChannelEndedAsync(channelId));
            }
        }
        await Task.WhenAll(told);
    }

    public Task<IReadOnlyList<ChannelEvent>> GetEventsAsync(MemberRef who, long afterSeq)
    {
        RequireMember(who);
        var skip = (int)Math.Clamp(afterSeq, 0, S.Events.Count);
        return Task.FromResult<IReadOnlyList<ChannelEvent>>(S.Events.GetRange(skip, S.Events.Count - skip));
    }

    private ChannelEvent Append(string type, Participant from, string? text, string? url)
    {
        if (S.Events.Count >= options.Value.MaxChannelEvents)
            throw new SupportGridException(ErrorCodes.InvalidState, $"This chat has reached its limit of {options.Value.MaxChannelEvents} events.");
        var evt = new ChannelEvent(S.Events.Count + 1, type, from, text, url, time.GetUtcNow());
        S.Events.Add(evt);
        return evt;
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
