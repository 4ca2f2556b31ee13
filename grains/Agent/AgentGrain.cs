using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;

namespace SupportGrid.Grains.Agent;

/*
 * The agent grain owns the agent's capacity. Queues offer chats (one-way calls into this grain); accepting one claims it
 * from the queue (which refuses if the offer expired or went elsewhere), opens a channel and tells the customer, in that
 * order, so the queue stays the single authority on who gets a customer and this grain the single authority on how many
 * chats the agent holds. After every change of status or load, the grain reports its free slots to each queue it serves.
 *
 * An agent receives offers only while available AND connected. When the last console disconnects, the queues are told at
 * once (open offers are withdrawn and re-routed), but the status stays available for AgentDisconnectGrace, so a console
 * reload picks up where it was; after the grace the agent is offline. MaxMissedOffers offers in a row that time out
 * unanswered set the agent away: nobody is at the desk.
 */
public sealed partial class AgentGrain(
    [PersistentState("agent", GrainStorage.Name)] IPersistentState<AgentState> state,
    IOptions<FlowOptions> options,
    IOptions<Routing.RoutingOptions> routing,
    SessionRecorder records,
    TimeProvider time,
    ILogger<AgentGrain> logger) : Grain, IAgentGrain
{
    private readonly FlowOptions _options = options.Value;
    private IGrainTimer? _graceTimer;
    private readonly Dictionary<Guid, IGrainTimer> _invitationTimers = [];
    private IDisposable? _metrics;

    private static readonly IReadOnlyDictionary<string, int> NoSkills = new Dictionary<string, int>();

    private AgentState S => state.State;
    private bool ReceivesOffers => S.Status == AgentStatus.Available && S.Connections.Count > 0;
    private string AgentId => this.GetPrimaryKeyString();
    private AgentProfile Profile => Apply(S.Profile ?? new AgentProfile(AgentId, AgentId, 1, []), S.Settings);
    private readonly Dictionary<string, int> _queuePriorities = [];

    private static AgentProfile Apply(AgentProfile configured, AgentSettings? settings) => settings is null ? configured : configured with
    {
        DisplayName = settings.DisplayName ?? configured.DisplayName,
        Capacity = settings.Capacity ?? configured.Capacity,
        Queues = settings.Queues ?? configured.Queues,
        Skills = settings.Skills ?? configured.Skills,
    };
    private MemberRef Me => new(Roles.Agent, AgentId, Profile.DisplayName);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.DisconnectedSince is { } since && S.Connections.Count == 0)
            ArmGraceTimer(since + _options.AgentDisconnectGrace);
        foreach (var invitation in S.Invitations.Values)
            ArmInvitationTimer(invitation);
        var held = S; // read by the metrics collector off the grain's thread, where IPersistentState.State may not be used
        _metrics = SupportGridMetrics.TrackAgent(() => held.Chats.Count);
        return Task.CompletedTask;
    }

    public override Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _metrics?.Dispose();
        return Task.CompletedTask;
    }

    public async Task<AgentSnapshot> ConnectAsync(string connectionId, AgentProfile profile, IGatewayObserver gateway)
    {
        _graceTimer?.Dispose();
        _graceTimer = null;
        S.DisconnectedSince = null;
        var previousQueues = S.Profile is null ? [] : Profile.Queues;
        S.Profile = profile;
        var queuesChanged = !previousQueues.SequenceEqual(Profile.Queues);
        S.Connections[connectionId] = gateway;
        await state.WriteStateAsync();
        if (queuesChanged)
        {
            foreach (var dropped in previousQueues.Except(Profile.Queues))
                await GrainFactory.GetGrain<IQueueGrain>(dropped).AgentUnavailableAsync(AgentId);
        }
        if (S.Status == AgentStatus.Available)
            await ReportAvailabilityAsync();
        return await GetSnapshotAsync();
    }

    public async Task DisconnectAsync(string connectionId)
    {
        if (!S.Connections.Remove(connectionId))
            return;
        if (S.Connections.Count == 0)
        {
            // No console is open: nobody of ours looks at a live page view any more.
            foreach (var channelId in S.Chats.Keys)
                GrainFactory.GetGrain<IChannelGrain>(channelId).StopWatchingAsync(Me).Ignore();
        }
        if (S.Connections.Count == 0 && S.Status != AgentStatus.Offline)
        {
            S.DisconnectedSince = time.GetUtcNow();
            ArmGraceTimer(S.DisconnectedSince.Value + _options.AgentDisconnectGrace);
            await state.WriteStateAsync();
            await ReportAvailabilityAsync();
        }
        else
        {
            await state.WriteStateAsync();
        }
    }

    private void ArmGraceTimer(DateTimeOffset at)
    {
        _graceTimer?.Dispose();
        _graceTimer = this.At(at, time, GraceEndedAsync);
    }

    private async Task GraceEndedAsync(CancellationToken cancellationToken)
    {
        _graceTimer?.Dispose();
        _graceTimer = null;
        if (S.Connections.Count > 0 || S.DisconnectedSince is null)
            return;
        S.DisconnectedSince = null;
        LogWentOffline(logger, AgentId);
        await ChangeStatusAsync(AgentStatus.Offline);
    }

    public Task SetStatusAsync(string status)
    {
        if (!AgentStatus.IsValid(status))
            throw new SupportGridException(ErrorCodes.InvalidInput, $"Unknown status '{status}'; use available, away or offline.");
        return ChangeStatusAsync(status);
    }

    public async Task<AgentSnapshot> GetSnapshotAsync()
    {
        var chats = new List<ActiveChat>(S.Chats.Count);
        List<Guid>? gone = null;
        foreach (var (channelId, chat) in S.Chats.ToList()) // a chat may end (ChannelEndedAsync interleaves) while one is read
        {
            try
            {
                var events = await GrainFactory.GetGrain<IChannelGrain>(channelId).GetEventsAsync(Me, 0);
                chats.Add(new ActiveChat(channelId, chat.SessionId, chat.Queue, chat.Customer, chat.PageUrl, events));
            }
            catch (SupportGridException e) when (e.Code == ErrorCodes.NotMember)
            {
                (gone ??= []).Add(channelId);
            }
        }
        // The chat says this agent is not in it: a leave or transfer that got that far before a silo was lost. Only the
        // agent's own note of it was left; without it the slot would stay taken and the console would show a dead chat.
        foreach (var channelId in gone ?? [])
        {
            LogForgotChat(logger, AgentId, channelId);
            await ForgetChatAsync(channelId, "You are no longer in this chat.");
        }
        return new AgentSnapshot(AgentId, Profile.DisplayName, S.Status, Profile.Capacity, S.Offers.Values.ToList(), chats,
            S.Invitations.Values.ToList());
    }

    public Task ReceiveOfferAsync(string queueKey, ChatOffer offer)
    {
        if (!ReceivesOffers)
        {
            // The queue raced with a status change: tell it again that this agent is unavailable, which withdraws the
            // offer and re-routes the customer without counting it as a decline.
            return GrainFactory.GetGrain<IQueueGrain>(queueKey).AgentUnavailableAsync(AgentId);
        }
        S.Offers[offer.SessionId] = offer;
        foreach (var gateway in Gateways())
            gateway.OfferAsync(AgentId, offer).Ignore();
        // Serving queues of different priorities: an offer from a higher one takes the place of lower ones' offers.
        return ServesSeveralPriorities ? ReportAvailabilityAsync() : Task.CompletedTask;
    }

    public async Task WithdrawOfferAsync(Guid sessionId, string reason, bool missed)
    {
        if (!S.Offers.Remove(sessionId))
            return;
        if (ServesSeveralPriorities)
            await ReportAvailabilityAsync(); // lower queues may offer again
        foreach (var gateway in Gateways())
            gateway.OfferWithdrawnAsync(AgentId, sessionId, reason).Ignore();
        if (missed && ++S.MissedInARow >= _options.MaxMissedOffers && S.Status == AgentStatus.Available)
        {
            LogSetAway(logger, AgentId, S.MissedInARow);
            S.MissedInARow = 0;
            await ChangeStatusAsync(AgentStatus.Away);
        }
    }

    public async Task<AcceptResult> AcceptOfferAsync(Guid sessionId)
    {
        if (!S.Offers.TryGetValue(sessionId, out var offer))
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This chat is not offered to you (it timed out, was taken or the customer left).");
        S.MissedInARow = 0;
        if (S.Chats.Count >= Profile.Capacity)
            throw new SupportGridException(ErrorCodes.AtCapacity, $"You already have {S.Chats.Count} of {Profile.Capacity} chats open.");

        var queue = GrainFactory.GetGrain<IQueueGrain>(offer.Queue);
        QueueEntry entry;
        try
        {
            entry = await queue.ClaimOfferAsync(sessionId, AgentId);
        }
        finally
        {
            S.Offers.Remove(sessionId);
        }

        // A transferred customer brings their channel (and its history); a new one gets a new channel.
        var channelId = entry.ChannelId ?? Guid.NewGuid();
        var (site, _) = QueueKey.Parse(offer.Queue);
        var customerMember = new MemberRef(Roles.Customer, sessionId.ToString(), entry.Customer.Name);
        var channel = GrainFactory.GetGrain<IChannelGrain>(channelId);
        var events = entry.ChannelId is null
            ? await channel.OpenAsync(new ChannelOpening(site, offer.Queue, customerMember, Me, entry.PageUrl))
            : await channel.JoinAsync(Me);
        S.Chats[channelId] = new AgentChat(sessionId, offer.Queue, entry.Customer, entry.PageUrl);
        await state.WriteStateAsync();
        // The customer grain is the last word: it takes only one agent, even if this claim lapsed meanwhile.
        var assigned = await GrainFactory.GetGrain<ICustomerGrain>(sessionId).AssignAsync(channelId, Profile.DisplayName);
        await queue.CompleteClaimAsync(sessionId);
        if (!assigned)
        {
            if (entry.ChannelId is null)
            {
                await channel.EndAsync(new MemberRef(Roles.System, "system", "SupportGrid"), "The customer left before the chat started.");
                throw new SupportGridException(ErrorCodes.InvalidState, "The customer left before the chat started.");
            }
            // A transferred chat whose waiting customer left while this accept was under way: leaving took them out of
            // the queue, claim and all, and handed the wait to another customer of the channel (or ended it when none was
            // left). The chat is not this agent's to end: step back out; the next agent comes from the queue.
            try
            {
                await channel.LeaveAsync(Me, $"{Profile.DisplayName} could not take the chat after all. Please wait for the next agent.");
            }
            finally
            {
                S.Chats.Remove(channelId);
                await state.WriteStateAsync();
                await ReportAvailabilityAsync();
            }
            throw new SupportGridException(ErrorCodes.InvalidState, "This chat is no longer waiting for you (the customer waiting for it left, or another agent took it).");
        }
        records.Record(new SessionAccepted(sessionId, time.GetUtcNow(), AgentId, channelId));
        if (entry.Customer is { CustomerIdVerified: true, CustomerId: { } customerId })
            GrainFactory.GetGrain<ICustomerProfileGrain>(CustomerProfile.CustomerProfileGrain.KeyFor(site, customerId)).SetLastAgentAsync(AgentId).Ignore();
        LogAccepted(logger, AgentId, sessionId, channelId);
        await ReportAvailabilityAsync();
        return new AcceptResult(channelId, sessionId, entry.Customer, entry.PageUrl, events);
    }

    /*
     * Accepting into an existing chat: the same claim as AcceptOfferAsync (the queue stays the one authority on who gets
     * the customer), but the customer is added to a channel this agent is in instead of opening one, and S.Chats does not
     * change, so no capacity is used. If the channel refuses (it ended meanwhile) the claimed customer goes back to their
     * place in the queue. A customer who was transferred brings a channel (and history) of their own: that is refused.
     */
    public async Task<AcceptResult> AcceptOfferIntoChannelAsync(Guid sessionId, Guid channelId)
    {
        if (!S.Offers.TryGetValue(sessionId, out var offer))
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This chat is not offered to you (it timed out, was taken or the customer left).");
        if (!S.Chats.TryGetValue(channelId, out var chat))
            throw new SupportGridException(ErrorCodes.NotMember, "You are not in that chat.");
        if (QueueKey.Parse(chat.Queue).Site != QueueKey.Parse(offer.Queue).Site)
            throw new SupportGridException(ErrorCodes.InvalidInput, "That chat is on another site; accept this customer on their own.");
        if (offer.Transfer is not null)
            throw new SupportGridException(ErrorCodes.InvalidState, "This customer was transferred with a chat of their own; accept it on its own.");
        S.MissedInARow = 0;

        var queue = GrainFactory.GetGrain<IQueueGrain>(offer.Queue);
        QueueEntry entry;
        try
        {
            entry = await queue.ClaimOfferAsync(sessionId, AgentId);
        }
        finally
        {
            S.Offers.Remove(sessionId);
        }
        var channel = GrainFactory.GetGrain<IChannelGrain>(channelId);
        IReadOnlyList<ChannelEvent> events;
        try
        {
            if (entry.ChannelId is not null)
                throw new SupportGridException(ErrorCodes.InvalidState, "This customer already has a chat of their own; accept it on its own.");
            events = await channel.AddCustomerAsync(new MemberRef(Roles.Customer, sessionId.ToString(), entry.Customer.Name));
        }
        catch (SupportGridException)
        {
            // Not added: the customer waits again in their original place (offered to the next agent).
            await queue.CompleteClaimAsync(sessionId);
            await queue.ReturnAsync(entry);
            await ReportAvailabilityAsync();
            throw;
        }
        var assigned = await GrainFactory.GetGrain<ICustomerGrain>(sessionId).AssignAsync(channelId, Profile.DisplayName);
        await queue.CompleteClaimAsync(sessionId);
        if (!assigned)
        {
            await channel.CustomerLeaveAsync(new MemberRef(Roles.Customer, sessionId.ToString(), entry.Customer.Name));
            await ReportAvailabilityAsync();
            throw new SupportGridException(ErrorCodes.InvalidState, "The customer left before the chat started.");
        }
        records.Record(new SessionAccepted(sessionId, time.GetUtcNow(), AgentId, channelId));
        if (entry.Customer is { CustomerIdVerified: true, CustomerId: { } customerId })
            GrainFactory.GetGrain<ICustomerProfileGrain>(CustomerProfile.CustomerProfileGrain.KeyFor(QueueKey.Parse(offer.Queue).Site, customerId)).SetLastAgentAsync(AgentId).Ignore();
        LogAcceptedIntoChannel(logger, AgentId, sessionId, channelId);
        await ReportAvailabilityAsync(); // the claim took a slot in the queue's view; none is used
        return new AcceptResult(channelId, sessionId, entry.Customer, entry.PageUrl, events);
    }

    public async Task DeclineOfferAsync(Guid sessionId)
    {
        if (!S.Offers.Remove(sessionId, out var offer))
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This chat is not offered to you.");
        S.MissedInARow = 0;
        await GrainFactory.GetGrain<IQueueGrain>(offer.Queue).DeclineOfferAsync(sessionId, AgentId);
        if (ServesSeveralPriorities)
            await ReportAvailabilityAsync();
    }

    public async Task TransferAsync(Guid channelId, IReadOnlyList<string> queueKeys, string? preferredAgentId, string? note)
    {
        if (!S.Chats.TryGetValue(channelId, out var chat))
            throw new SupportGridException(ErrorCodes.NotMember, "You are not in this chat.");
        if (queueKeys.Count == 0)
            throw new SupportGridException(ErrorCodes.InvalidInput, "The target serves no queue.");
        var queueKey = queueKeys.Contains(chat.Queue) ? chat.Queue : queueKeys[0];
        if (preferredAgentId == AgentId)
            throw new SupportGridException(ErrorCodes.InvalidInput, "You cannot transfer a chat to yourself.");
        var trimmedNote = string.IsNullOrWhiteSpace(note) ? null : note.Trim();
        if (trimmedNote?.Length > 500)
            throw new SupportGridException(ErrorCodes.InvalidInput, "The note is longer than 500 characters.");
        // One customer waits in the queue for the whole channel (the others wait in it with them and see the next agent
        // join): the one who opened the chat if still in it, else another. A channel has several customers when the agent
        // accepted more into it or shared a join code.
        var channel = GrainFactory.GetGrain<IChannelGrain>(channelId);
        IReadOnlyList<Guid> customers;
        try
        {
            customers = MemberRef.CustomerSessions(await channel.GetMembersAsync(Me));
        }
        catch (SupportGridException e) when (e.Code == ErrorCodes.NotMember && chat.TransferId is not null)
        {
            // A retry of a transfer that got as far as leaving the chat before a silo was lost: only forgetting it is left.
            await ForgetChatAsync(channelId, "You transferred this chat.");
            return;
        }
        if (customers.Count == 0)
            throw new SupportGridException(ErrorCodes.InvalidState, "No customer is left in this chat to transfer.");
        // The chat may have ended while the channel answered (ChannelEndedAsync interleaves): then there is nothing to hand on.
        if (!S.Chats.TryGetValue(channelId, out chat))
            throw new SupportGridException(ErrorCodes.ChannelEnded, "This chat has ended.");
        var waiting = customers.Contains(chat.SessionId) ? chat.SessionId : customers[0];
        // The transfer is named (and the name stored) before the customer is queued: if a silo is lost after that and the
        // agent tries again, the customer knows this transfer as done and the rest of it (leaving the chat) completes,
        // rather than the chat staying half-transferred with this agent, or being taken back from the colleague who took it.
        if (chat.TransferId is not { } transferId)
        {
            transferId = Guid.NewGuid();
            S.Chats[channelId] = chat with { TransferId = transferId };
            await state.WriteStateAsync();
        }
        // Queue the customer first: if the target is offline this throws and the chat stays with this agent.
        await GrainFactory.GetGrain<ICustomerGrain>(waiting).RequeueAsync(queueKey, preferredAgentId,
            new TransferInfo(Profile.DisplayName, trimmedNote, AgentId, transferId));
        // The waiting customer's grain recorded the transfer (durably, as it queued them); the others of the channel here,
        // durably too and before leaving: a retry after a lost silo finds this agent out of the channel and only forgets
        // the chat. A retry from before the leave records them again, and the store keeps one step per transfer.
        var others = customers.Where(c => c != waiting).ToList();
        if (others.Count > 0)
        {
            foreach (var customer in others)
                records.Record(SessionStepped.Transferred(customer, time.GetUtcNow(), AgentId, queueKey, preferredAgentId, trimmedNote, transferId));
            await records.FlushAsync();
        }
        await channel.LeaveAsync(Me, $"{Profile.DisplayName} transferred the chat; please wait for the next agent.");
        await ForgetChatAsync(channelId, "You transferred this chat.");
    }

    /// <summary>This agent is out of a chat: its slot is free again, and its consoles are told.</summary>
    private async Task ForgetChatAsync(Guid channelId, string reason)
    {
        S.Chats.Remove(channelId);
        foreach (var gateway in Gateways())
            gateway.ChatLeftAsync(AgentId, channelId, reason).Ignore();
        S.IdleSince = time.GetUtcNow();
        await state.WriteStateAsync();
        await ReportAvailabilityAsync();
    }

    public Task<string> GetStatusAsync() => Task.FromResult(S.Status);

    public async Task SetConfiguredProfileAsync(AgentProfile profile)
    {
        // Only for an agent who never signed in: every sign-in brings the configured profile anyway.
        if (S.Profile is not null)
            return;
        S.Profile = profile;
        await state.WriteStateAsync();
    }

    public Task<AgentSettingsView> GetSettingsAsync() => Task.FromResult(new AgentSettingsView(Profile, S.Settings, S.Status));

    public async Task<AgentSettingsView> UpdateSettingsAsync(AgentSettings? settings)
    {
        if (settings is { Capacity: < 1 or > 100 })
            throw new SupportGridException(ErrorCodes.InvalidInput, "Capacity must be 1 to 100.");
        if (settings?.DisplayName is { } name && (string.IsNullOrWhiteSpace(name) || name.Length > 100))
            throw new SupportGridException(ErrorCodes.InvalidInput, "A display name of 1 to 100 characters is required.");
        if (settings?.Skills is { } skills && skills.Any(s => s.Value is < 1 or > 10 || string.IsNullOrWhiteSpace(s.Key)))
            throw new SupportGridException(ErrorCodes.InvalidInput, "Skill levels must be 1 to 10.");
        if (settings?.Queues is { } queues && queues.Any(q => !q.Contains('/')))
            throw new SupportGridException(ErrorCodes.InvalidInput, "Queues are named site/queue.");
        var before = Profile.Queues;
        S.Settings = settings;
        await state.WriteStateAsync();
        foreach (var dropped in before.Except(Profile.Queues))
        {
            WithdrawOffersFrom(dropped);
            await GrainFactory.GetGrain<IQueueGrain>(dropped).AgentUnavailableAsync(AgentId);
        }
        if (S.Status == AgentStatus.Available)
            await ReportAvailabilityAsync();
        return await GetSettingsAsync();
    }

    private void WithdrawOffersFrom(string queueKey)
    {
        foreach (var offer in S.Offers.Values.Where(o => o.Queue == queueKey).ToList())
        {
            S.Offers.Remove(offer.SessionId);
            foreach (var gateway in Gateways())
                gateway.OfferWithdrawnAsync(AgentId, offer.SessionId, "you no longer serve this queue").Ignore();
        }
    }

    public Task<ChatInvitation> PrepareInvitationAsync(Guid channelId, string? note)
    {
        if (!S.Chats.TryGetValue(channelId, out var chat))
            throw new SupportGridException(ErrorCodes.NotMember, "You are not in this chat.");
        var trimmed = string.IsNullOrWhiteSpace(note) ? null : note.Trim();
        if (trimmed?.Length > 500)
            throw new SupportGridException(ErrorCodes.InvalidInput, "The note is longer than 500 characters.");
        return Task.FromResult(new ChatInvitation(channelId, chat.SessionId, chat.Queue, chat.Customer, chat.PageUrl, AgentId,
            Profile.DisplayName, trimmed, time.GetUtcNow() + _options.OfferTimeout));
    }

    public async Task ReceiveInvitationAsync(ChatInvitation invitation)
    {
        if (invitation.FromAgentId == AgentId)
            throw new SupportGridException(ErrorCodes.InvalidInput, "You cannot invite yourself.");
        if (S.Chats.ContainsKey(invitation.ChannelId))
            throw new SupportGridException(ErrorCodes.InvalidState, $"{Profile.DisplayName} is already in this chat.");
        if (!ReceivesOffers)
            throw new SupportGridException(ErrorCodes.InvalidState, $"{Profile.DisplayName} is not available (status {S.Status}{(S.Connections.Count == 0 ? ", not signed in" : "")}).");
        if (S.Chats.Count >= Profile.Capacity)
            throw new SupportGridException(ErrorCodes.AtCapacity, $"{Profile.DisplayName} already has {S.Chats.Count} of {Profile.Capacity} chats open.");
        S.Invitations[invitation.ChannelId] = invitation;
        await state.WriteStateAsync();
        ArmInvitationTimer(invitation);
        records.Record(new SessionStepped(invitation.SessionId, time.GetUtcNow(), StepKinds.Invited, invitation.FromAgentId, AgentId));
        foreach (var gateway in Gateways())
            gateway.InvitationAsync(AgentId, invitation).Ignore();
    }

    public async Task<AcceptResult> AcceptInvitationAsync(Guid channelId)
    {
        if (!S.Invitations.TryGetValue(channelId, out var invitation))
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This invitation is not open any more (it lapsed or the chat ended).");
        if (S.Chats.Count >= Profile.Capacity)
            throw new SupportGridException(ErrorCodes.AtCapacity, $"You already have {S.Chats.Count} of {Profile.Capacity} chats open.");
        CloseInvitation(channelId);
        // Joining fails if the chat ended meanwhile; then nothing changes here.
        var events = await GrainFactory.GetGrain<IChannelGrain>(channelId).JoinAsync(Me);
        S.Chats[channelId] = new AgentChat(invitation.SessionId, invitation.Queue, invitation.Customer, invitation.PageUrl);
        await state.WriteStateAsync();
        records.Record(new SessionAccepted(invitation.SessionId, time.GetUtcNow(), AgentId, channelId));
        await ReportAvailabilityAsync();
        return new AcceptResult(channelId, invitation.SessionId, invitation.Customer, invitation.PageUrl, events);
    }

    public async Task DeclineInvitationAsync(Guid channelId)
    {
        if (!S.Invitations.TryGetValue(channelId, out var invitation))
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This invitation is not open any more.");
        CloseInvitation(channelId);
        await state.WriteStateAsync();
        GrainFactory.GetGrain<IAgentGrain>(invitation.FromAgentId).InvitationDeclinedAsync(channelId, Profile.DisplayName, "declined").Ignore();
    }

    public Task InvitationDeclinedAsync(Guid channelId, string colleague, string reason)
    {
        if (S.Chats.ContainsKey(channelId))
        {
            foreach (var gateway in Gateways())
                gateway.InvitationClosedAsync(AgentId, channelId, $"{colleague} {reason} your invitation.").Ignore();
        }
        return Task.CompletedTask;
    }

    public async Task LeaveChatAsync(Guid channelId)
    {
        if (!S.Chats.ContainsKey(channelId))
            throw new SupportGridException(ErrorCodes.NotMember, "You are not in this chat.");
        var channel = GrainFactory.GetGrain<IChannelGrain>(channelId);
        IReadOnlyList<MemberRef> members;
        try
        {
            members = await channel.GetMembersAsync(Me);
        }
        catch (SupportGridException e) when (e.Code == ErrorCodes.NotMember)
        {
            // Left already (a retry after the first leave's silo was lost): only forgetting it is left.
            await ForgetChatAsync(channelId, "You left this chat.");
            return;
        }
        if (!members.Any(m => m.Role == Roles.Agent && m.Id != AgentId))
            throw new SupportGridException(ErrorCodes.InvalidState, "You are the only agent in this chat: end it or transfer it instead.");
        await channel.LeaveAsync(Me, $"{Profile.DisplayName} left the chat.");
        await ForgetChatAsync(channelId, "You left this chat.");
    }

    private void ArmInvitationTimer(ChatInvitation invitation)
    {
        _invitationTimers.Replace(invitation.ChannelId, this.At(invitation.ExpiresAt, time, async _ =>
        {
            if (!S.Invitations.TryGetValue(invitation.ChannelId, out var current) || current != invitation)
                return;
            CloseInvitation(invitation.ChannelId);
            await state.WriteStateAsync();
            foreach (var gateway in Gateways())
                gateway.InvitationClosedAsync(AgentId, invitation.ChannelId, "The invitation lapsed.").Ignore();
            GrainFactory.GetGrain<IAgentGrain>(invitation.FromAgentId).InvitationDeclinedAsync(invitation.ChannelId, Profile.DisplayName, "did not answer").Ignore();
        }));
    }

    private void CloseInvitation(Guid channelId)
    {
        S.Invitations.Remove(channelId);
        if (_invitationTimers.Remove(channelId, out var timer))
            timer.Dispose();
    }

    public async Task ChannelEndedAsync(Guid channelId)
    {
        if (!S.Chats.Remove(channelId))
            return;
        S.IdleSince = time.GetUtcNow();
        await state.WriteStateAsync();
        await ReportAvailabilityAsync();
    }

    private async Task ChangeStatusAsync(string status)
    {
        var previous = S.Status;
        if (status == AgentStatus.Available && previous != AgentStatus.Available && S.Chats.Count == 0)
            S.IdleSince = time.GetUtcNow();
        S.Status = status;
        if (status != AgentStatus.Available)
        {
            foreach (var sessionId in S.Offers.Keys.ToList())
                await WithdrawOfferAsync(sessionId, "you are " + status, missed: false);
        }
        await state.WriteStateAsync();
        await ReportAvailabilityAsync();
        foreach (var gateway in Gateways())
            gateway.AgentStatusAsync(AgentId, status).Ignore();
    }

    /// <summary>
    /// Tells each queue this agent serves how many chats it may offer: the free slots, less the offers this agent holds
    /// from higher-priority queues (so a free slot goes to the highest-priority queue that has someone waiting). Higher
    /// queues are told first.
    /// </summary>
    private async Task ReportAvailabilityAsync()
    {
        foreach (var queueKey in Profile.Queues.OrderByDescending(PriorityOf))
        {
            var queue = GrainFactory.GetGrain<IQueueGrain>(queueKey);
            if (ReceivesOffers)
                _queuePriorities[queueKey] = await queue.AgentAvailableAsync(AgentId, FreeFor(queueKey), Profile.Capacity, S.IdleSince, Profile.Skills ?? NoSkills);
            else
                await queue.AgentUnavailableAsync(AgentId);
        }
    }

    private int FreeFor(string queueKey)
    {
        var priority = PriorityOf(queueKey);
        return Profile.Capacity - S.Chats.Count - S.Offers.Values.Count(o => PriorityOf(o.Queue) > priority);
    }

    /// <summary>A queue's priority as it last told this agent (it may have been changed at runtime), else as configured.</summary>
    private int PriorityOf(string queueKey)
    {
        if (_queuePriorities.TryGetValue(queueKey, out var told))
            return told;
        var (site, queue) = QueueKey.Parse(queueKey);
        return routing.Value.For(site, queue).Priority;
    }

    private bool ServesSeveralPriorities => Profile.Queues.Select(PriorityOf).Distinct().Skip(1).Any();

    private IEnumerable<IGatewayObserver> Gateways() => S.Connections.Values.Distinct();

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} accepted session {SessionId} into channel {ChannelId}")]
    private static partial void LogAccepted(ILogger logger, string agentId, Guid sessionId, Guid channelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} accepted session {SessionId} into their chat {ChannelId}")]
    private static partial void LogAcceptedIntoChannel(ILogger logger, string agentId, Guid sessionId, Guid channelId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} missed {Missed} offers in a row and was set away")]
    private static partial void LogSetAway(ILogger logger, string agentId, int missed);

    [LoggerMessage(Level = LogLevel.Information, Message = "Agent {AgentId} has had no console connected for the grace period and went offline")]
    private static partial void LogWentOffline(ILogger logger, string agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Agent {AgentId} held chat {ChannelId} but is no longer in it (a leave or transfer cut short by a lost silo); forgotten")]
    private static partial void LogForgotChat(ILogger logger, string agentId, Guid channelId);
}
