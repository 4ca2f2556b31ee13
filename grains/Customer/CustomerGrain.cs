using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.CustomerProfile;
using SupportGrid.Grains.Records;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Customer;

/*
 * Resume protocol
 * ---------------
 * A session is started once and then reached only through its resume token, "{sessionId:N}.{secret}", where the secret
 * is 256 random bits of which the grain keeps only the SHA-256. A page reload, a dropped connection or a move to another
 * gateway all come back through Resume(secret, afterSeq): it checks the secret in constant time, records the caller's
 * gateway for direct pushes, and returns where the session stands plus the channel events after afterSeq, so the client
 * misses nothing and the reconnect never re-routes the customer. An ended session can be resumed (to read its end) for
 * EndedSessionGrace, then the token is dead.
 *
 * Abandonment: the grain counts the session's open connections by id (unique across gateways). A waiting customer whose
 * last connection closes keeps their place for AbandonGrace, so a reload or a brief network loss is not abandonment;
 * after it they leave the queue and the session ends as abandoned.
 *
 * Joining: a customer who comes with an agent's join code skips the queue. The code's grain says which channel (of which
 * site) it leads to; the session is then the same as any other (token, resume, reports), it just starts connected.
 * Ending a session in a channel with other customers only takes this customer out of it (the channel decides).
 */
public sealed class CustomerGrain(
    [PersistentState("customer", GrainStorage.Name)] IPersistentState<CustomerState> state,
    IOptions<FlowOptions> options,
    IOptions<RoutingOptions> routing,
    SessionRecorder records,
    TimeProvider time) : Grain, ICustomerGrain
{
    private const int MaxGateways = 8;
    private const int MaxConnections = 32;
    private IGrainTimer? _abandonTimer;
    private CustomerState S => state.State;
    private Guid SessionId => this.GetPrimaryKey();
    private MemberRef Me => new(Roles.Customer, SessionId.ToString(), S.Request?.Name ?? "Customer");

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (S.Status == SessionStatus.Queued && S.Connections.Count == 0 && S.AwaySince is { } since)
            ArmAbandonTimer(since + options.Value.AbandonGrace);
        if (S.Status == SessionStatus.Ended)
            LingerThenDeactivate(); // woken for a resume or a transcript after the end
        return Task.CompletedTask;
    }

    private IGrainTimer? _linger;

    /// <summary>An ended session leaves memory after <see cref="FlowOptions.EndedLinger"/> (it is all in storage).</summary>
    private void LingerThenDeactivate() => _linger ??= this.LingerThen(options.Value.EndedLinger, DeactivateOnIdle);

    public async Task<StartChatResult> StartAsync(ChatRequest request, IGatewayObserver gateway, string connectionId)
    {
        if (S.Status == SessionStatus.Queued && S.Request == request && S.Connections.Contains(connectionId))
        {
            // The same connection asks again: its first call queued the session but failed after (its state write, or the
            // answer, was lost). The queue answers a session it holds with its place; the answer carries a new secret,
            // since the first one never reached the client.
            var again = NewSecret();
            S.SecretHash = Hash(again);
            var place = await Queue().EnqueueAsync(new QueueEntry(SessionId, CustomerOf(request), request.PageUrl, request.PageTitle, S.CreatedAt));
            await state.WriteStateAsync();
            return new StartChatResult(SessionId, $"{SessionId:N}.{again}", place);
        }
        if (S.Status != SessionStatus.New)
            throw new SupportGridException(ErrorCodes.InvalidState, "This session has already started.");
        var secretText = NewSecret();
        S.Request = request;
        S.SecretHash = Hash(secretText);
        S.Status = SessionStatus.Queued;
        S.CreatedAt = time.GetUtcNow();
        S.Gateways = [gateway];
        S.Connections = [connectionId];

        var customer = CustomerOf(request);
        var preferred = await PreferredAgentAsync(request);
        int position;
        try
        {
            // The record exists before the customer is in any queue, so no later step can miss it. If it cannot be
            // written (the silo is stopping), nothing of this start stays in memory either: a retry on this activation
            // must start afresh and record it, not find a queued session whose record has no start.
            await records.RecordDurablyAsync(new SessionRequested(SessionId, S.CreatedAt, request.Site, QueueKey.For(request.Site, request.Queue), customer, request.PageUrl, request.PageTitle));
            position = await Queue().EnqueueAsync(new QueueEntry(SessionId, customer, request.PageUrl, request.PageTitle, S.CreatedAt,
                preferred, preferred is null ? null : S.CreatedAt + routing.Value.AffinityWait));
        }
        catch (Exception e)
        {
            // Not recorded or not queued (refused while offline, or a silo failed): keep nothing of this session in memory,
            // so a retry starts it afresh. A refusal is recorded (supervisors see who tried while offline).
            state.State = new CustomerState();
            if (e is SupportGridException { Code: ErrorCodes.Offline } refused)
                records.Record(new SessionClosed(SessionId, time.GetUtcNow(), SessionOutcome.RefusedOffline, refused.Message));
            // Anything else (a silo lost or joining) may have queued it before the answer was lost: a retry with this
            // session id (the hub reuses it on the same connection) finds its place; an abandoned one is never assigned
            // (AssignAsync refuses a session that is not waiting, and the agent is told the customer left).
            throw;
        }
        await state.WriteStateAsync();
        return new StartChatResult(SessionId, $"{SessionId:N}.{secretText}", position);
    }

    public async Task<JoinChatResult> JoinAsync(string code, ChatRequest request, IGatewayObserver gateway, string connectionId)
    {
        if (S.Status != SessionStatus.New)
            throw new SupportGridException(ErrorCodes.InvalidState, "This session has already started.");
        var normalized = JoinCodes.Normalize(code)
            ?? throw new SupportGridException(ErrorCodes.InvalidCode, "That is not a join code (10 letters and digits, like ABCDE-FGHJK).");
        var target = await GrainFactory.GetGrain<IJoinCodeGrain>(normalized).ResolveAsync();
        if (target.Site != request.Site)
            throw new SupportGridException(ErrorCodes.InvalidCode, "This join code is for another site.");
        var channel = GrainFactory.GetGrain<IChannelGrain>(target.ChannelId);
        var me = new MemberRef(Roles.Customer, SessionId.ToString(), request.Name);
        // Joining fails if the chat ended meanwhile; then nothing of this session is kept.
        var events = await channel.AddCustomerAsync(me);

        var secretText = NewSecret();
        S.Request = request with { Queue = QueueKey.Parse(target.Queue).Queue };
        S.SecretHash = Hash(secretText);
        S.Status = SessionStatus.Connected;
        S.CreatedAt = time.GetUtcNow();
        S.ChannelId = target.ChannelId;
        S.AgentName = target.AgentName;
        S.Gateways = [gateway];
        S.Connections = [connectionId];
        await state.WriteStateAsync();
        records.Record(new SessionRequested(SessionId, S.CreatedAt, request.Site, target.Queue, CustomerOf(request), request.PageUrl, request.PageTitle));
        records.Record(new SessionAccepted(SessionId, S.CreatedAt, target.AgentId, target.ChannelId));
        return new JoinChatResult(SessionId, $"{SessionId:N}.{secretText}", target.ChannelId, target.AgentName, events, request.Site);
    }

    public Task ReportPageAsync(PageReport report)
    {
        RequireStarted();
        return S.Status == SessionStatus.Connected ? Channel().ReportPageAsync(Me, report) : Task.CompletedTask;
    }

    public Task PageActivityAsync(PageActivity activity)
    {
        RequireStarted();
        return S.Status == SessionStatus.Connected ? Channel().PageActivityAsync(Me, activity) : Task.CompletedTask;
    }

    public Task PageViewAsync(PageViewChunk chunk)
    {
        RequireStarted();
        return S.Status == SessionStatus.Connected ? Channel().PageViewAsync(Me, chunk) : Task.CompletedTask;
    }

    public async Task<int> RequeueAsync(string queueKey, string? preferredAgentId, TransferInfo transfer)
    {
        if (transfer.TransferId != Guid.Empty && S.Transfers.Contains(transfer.TransferId))
        {
            // A retry of a transfer carried out before (the agent's answer was lost with a silo): done. The customer may
            // still be waiting, or another agent may have taken them since; either way nothing is queued again.
            return S.Status == SessionStatus.Queued ? await Queue().GetPositionAsync(SessionId) ?? 0 : 0;
        }
        if (S.Status != SessionStatus.Connected || S.ChannelId is not { } channelId)
            throw new SupportGridException(ErrorCodes.InvalidState, "Only a chat in progress can be transferred.");
        var (site, queue) = QueueKey.Parse(queueKey);
        if (site != S.Request!.Site)
            throw new SupportGridException(ErrorCodes.InvalidInput, $"A chat of site '{S.Request.Site}' cannot go to a queue of site '{site}'.");
        var entry = new QueueEntry(SessionId, CustomerOf(S.Request), S.Request.PageUrl, S.Request.PageTitle, S.CreatedAt,
            preferredAgentId, preferredAgentId is null ? null : time.GetUtcNow() + routing.Value.AffinityWait, channelId, transfer, time.GetUtcNow());
        var position = await GrainFactory.GetGrain<IQueueGrain>(queueKey).EnqueueAsync(entry);
        // Written before the session says it is queued: whoever takes the chat next, its record says how it got to them,
        // even if this silo is lost right after (a retry of the transfer then queues it again; the step is keyed by the
        // transfer, so the record keeps one).
        await records.RecordDurablyAsync(SessionStepped.Transferred(SessionId, time.GetUtcNow(), transfer.FromAgentId, queueKey, preferredAgentId,
            transfer.Note, transfer.TransferId));
        if (S.Status != SessionStatus.Connected)
        {
            // The chat ended while the queue and the record answered (ChannelEndedAsync interleaves): nobody is to wait for it.
            await GrainFactory.GetGrain<IQueueGrain>(queueKey).LeaveAsync(SessionId);
            throw new SupportGridException(ErrorCodes.InvalidState, "Only a chat in progress can be transferred.");
        }
        S.Request = S.Request with { Queue = queue };
        S.Status = SessionStatus.Queued;
        if (transfer.TransferId != Guid.Empty)
        {
            S.Transfers.Add(transfer.TransferId);
            if (S.Transfers.Count > MaxTransfersKept)
                S.Transfers.RemoveAt(0);
        }
        await state.WriteStateAsync();
        foreach (var gateway in S.Gateways)
            gateway.QueuePositionAsync(SessionId, position, 0).Ignore();
        return position;
    }

    /// <summary>How many transfers of one session are remembered as done: a retry comes within seconds, not 16 transfers later.</summary>
    private const int MaxTransfersKept = 16;

    public async Task<bool> TakeOverWaitAsync(string queueKey, QueueEntry entry)
    {
        if (S.Status != SessionStatus.Connected || S.ChannelId != entry.ChannelId)
            return false;
        var (site, queue) = QueueKey.Parse(queueKey);
        if (site != S.Request!.Site)
            return false;
        var mine = entry with { SessionId = SessionId, Customer = CustomerOf(S.Request), PageUrl = S.Request.PageUrl, PageTitle = S.Request.PageTitle };
        var position = await GrainFactory.GetGrain<IQueueGrain>(queueKey).EnqueueAsync(mine);
        S.Request = S.Request with { Queue = queue };
        S.Status = SessionStatus.Queued;
        await state.WriteStateAsync();
        records.Record(new SessionStepped(SessionId, time.GetUtcNow(), StepKinds.Transferred, entry.Transfer?.FromAgentId,
            $"waits for the next agent in {queueKey} in place of the customer who left"));
        foreach (var gateway in S.Gateways)
            gateway.QueuePositionAsync(SessionId, position, 0).Ignore();
        WatchPosition();
        return true;
    }

    /// <summary>This customer waited for the whole channel after a transfer and is leaving it: another customer of the
    /// channel takes the place in the queue, or the channel ends when none is left.</summary>
    private async Task LeaveWaitingChannelAsync(QueueEntry? entry, string reason)
    {
        var queueKey = QueueKey.For(S.Request!.Site, S.Request.Queue);
        var others = await Channel().HandOverWaitAsync(Me, reason);
        if (others.Count == 0 || entry is null)
            return; // ended, or no place to hand over (not in the queue any more: a retry; leaving ends a claim too)
        foreach (var next in others)
        {
            try
            {
                if (await GrainFactory.GetGrain<ICustomerGrain>(next).TakeOverWaitAsync(queueKey, entry))
                    return;
            }
            catch (SupportGridException e) when (e.Code == ErrorCodes.Offline)
            {
                break; // the queue closed meanwhile: no one is coming
            }
            // that customer was leaving too: the next one
        }
        await Channel().EndAsync(new MemberRef(Roles.System, "system", "SupportGrid"), "No one can take the chat now.");
    }

    public async Task WaitedTooLongAsync(string fromQueue, string? overflowTo)
    {
        var from = GrainFactory.GetGrain<IQueueGrain>(fromQueue);
        if (S.Status != SessionStatus.Queued || QueueKey.For(S.Request!.Site, S.Request.Queue) != fromQueue)
        {
            await from.LeaveAsync(SessionId); // a stale entry: this session waits elsewhere or no more
            return;
        }
        var now = time.GetUtcNow();
        if (overflowTo is not null)
        {
            // Join the overflow queue before leaving this one: if it fails, the customer still waits here and is told again.
            // The original request time is kept (serving order); the wait there starts now (its own MaxWait).
            var entry = new QueueEntry(SessionId, CustomerOf(S.Request), S.Request.PageUrl, S.Request.PageTitle, S.CreatedAt,
                null, null, S.ChannelId, null, now);
            int? position = null;
            try
            {
                position = await GrainFactory.GetGrain<IQueueGrain>(overflowTo).EnqueueAsync(entry);
            }
            catch (SupportGridException e) when (e.Code == ErrorCodes.Offline)
            {
                // Nobody there either: ask for a message below.
            }
            if (position is { } p)
            {
                await from.LeaveAsync(SessionId);
                S.Request = S.Request with { Queue = QueueKey.Parse(overflowTo).Queue };
                await state.WriteStateAsync();
                records.Record(new SessionStepped(SessionId, now, StepKinds.Overflowed, null, $"{fromQueue} -> {overflowTo}"));
                foreach (var gateway in S.Gateways)
                    gateway.QueuePositionAsync(SessionId, p, 0).Ignore();
                return;
            }
        }
        await from.LeaveAsync(SessionId);
        records.Record(new SessionStepped(SessionId, now, StepKinds.TimedOut, null, fromQueue));
        await MarkEndedAsync(SessionOutcome.TimedOut);
        if (S.ChannelId is not null) // waiting after a transfer: the channel ends too
            await Channel().EndAsync(new MemberRef(Roles.System, "system", "SupportGrid"), "No one could take the chat in time.");
        foreach (var gateway in S.Gateways)
            gateway.SessionEndedAsync(SessionId, "Sorry, no one could take your chat in time. Leave a message and we will get back to you.", true).Ignore();
    }

    public Task ClaimLapsedAsync(QueueEntry entry) =>
        S.Status == SessionStatus.Queued ? Queue().ReturnAsync(entry) : Task.CompletedTask;

    public Task LeaveMessageAsync(OfflineMessage message)
    {
        if (S.Status != SessionStatus.New)
            throw new SupportGridException(ErrorCodes.InvalidState, "This session has already started.");
        var request = message.Request;
        var at = time.GetUtcNow();
        var from = new Participant(Roles.Customer, request.Name);
        records.Record(new SessionRequested(SessionId, at, request.Site, QueueKey.For(request.Site, request.Queue), CustomerOf(request), request.PageUrl, request.PageTitle));
        records.Record(new SessionStepped(SessionId, at, StepKinds.OfflineMessage, null, null));
        records.Record(new TranscriptSaved(SessionId, at, Guid.Empty, [new ChannelEvent(1, EventTypes.Message, from, message.Text, null, at)]));
        records.Record(new SessionClosed(SessionId, at, SessionOutcome.OfflineMessage, null));
        S.Status = SessionStatus.Ended;
        S.Outcome = SessionOutcome.OfflineMessage;
        S.EndedAt = at;
        LingerThenDeactivate();
        return state.WriteStateAsync();
    }

    /// <summary>The customer as agents and records see them. Only a verified id carries a tier; an unverified one is information.</summary>
    private static CustomerInfo CustomerOf(ChatRequest request) => new(
        request.Name, request.Phone, request.Email, request.Ip, request.CustomerId, request.CustomerIdVerified,
        request.CustomerIdVerified ? request.Tier : null);

    /// <summary>The account manager of a verified customer, else the agent who served them last, else nobody.</summary>
    private async Task<string?> PreferredAgentAsync(ChatRequest request)
    {
        if (!request.CustomerIdVerified || request.CustomerId is not { } customerId)
            return null;
        return routing.Value.AccountManagerOf(request.Site, customerId)
            ?? await GrainFactory.GetGrain<ICustomerProfileGrain>(CustomerProfileGrain.KeyFor(request.Site, customerId)).GetLastAgentAsync();
    }

    public async Task<ResumeResult> ResumeAsync(string secret, long afterSeq, IGatewayObserver gateway, string connectionId)
    {
        if (S.Status == SessionStatus.New || !CryptographicOperations.FixedTimeEquals(Hash(secret), S.SecretHash))
            throw new SupportGridException(ErrorCodes.InvalidToken, "The resume token is not valid.");
        if (S.EndedAt is { } ended && time.GetUtcNow() - ended > options.Value.EndedSessionGrace)
            throw new SupportGridException(ErrorCodes.InvalidToken, "This chat ended and can no longer be resumed.");

        if (!S.Gateways.Contains(gateway))
        {
            S.Gateways.Add(gateway);
            if (S.Gateways.Count > MaxGateways)
                S.Gateways.RemoveAt(0); // the oldest: a session that moved across this many gateways has left the first
            WatchPosition();
        }
        if (S.Connections.Count < MaxConnections)
            S.Connections.Add(connectionId);
        S.AwaySince = null;
        _abandonTimer?.Dispose();
        _abandonTimer = null;
        await state.WriteStateAsync();

        int? position = S.Status == SessionStatus.Queued ? await Queue().GetPositionAsync(SessionId) : null;
        IReadOnlyList<ChannelEvent> events = S.ChannelId is { } channelId
            ? await GrainFactory.GetGrain<IChannelGrain>(channelId).GetEventsAsync(Me, Math.Max(0, afterSeq))
            : [];
        return new ResumeResult(SessionId, S.Status, position, S.AgentName, S.ChannelId, events, S.Request!.Site);
    }

    public async Task DisconnectedAsync(string connectionId)
    {
        if (!S.Connections.Remove(connectionId))
            return;
        if (S.Status == SessionStatus.Ended)
            return; // nothing depends on an ended session's connections: not worth a write (every routed chat ends so)
        if (S.Connections.Count == 0 && S.Status == SessionStatus.Queued)
        {
            S.AwaySince = time.GetUtcNow();
            ArmAbandonTimer(S.AwaySince.Value + options.Value.AbandonGrace);
        }
        await state.WriteStateAsync();
    }

    private void ArmAbandonTimer(DateTimeOffset at)
    {
        _abandonTimer?.Dispose();
        _abandonTimer = this.At(at, time, AbandonAsync);
    }

    private async Task AbandonAsync(CancellationToken cancellationToken)
    {
        _abandonTimer?.Dispose();
        _abandonTimer = null;
        if (S.Status != SessionStatus.Queued || S.Connections.Count > 0)
            return;
        var entry = await Queue().LeaveAsync(SessionId);
        await MarkEndedAsync(SessionOutcome.Abandoned);
        if (S.ChannelId is not null)
            await LeaveWaitingChannelAsync(entry, $"{Me.Name} left while waiting for the next agent.");
    }

    public async Task<SentMessage> SendMessageAsync(string text, string clientMessageId)
    {
        RequireStarted();
        if (S.Status == SessionStatus.Queued)
            throw new SupportGridException(ErrorCodes.InvalidState, "No agent has joined yet; your message can be sent once one does.");
        if (S.Status == SessionStatus.Ended)
            throw new SupportGridException(ErrorCodes.ChannelEnded, "This chat has ended.");
        var channelId = S.ChannelId!.Value;
        return new SentMessage(channelId, await Channel().PostMessageAsync(Me, text, clientMessageId));
    }

    public Task SetTypingAsync(bool isTyping) =>
        S.Status == SessionStatus.Connected ? Channel().SetTypingAsync(Me, isTyping) : Task.CompletedTask;

    public async Task EndAsync()
    {
        RequireStarted();
        switch (S.Status)
        {
            case SessionStatus.Queued:
                var entry = await Queue().LeaveAsync(SessionId);
                await MarkEndedAsync(S.ChannelId is null ? SessionOutcome.LeftQueue : SessionOutcome.Ended);
                if (S.ChannelId is not null) // waiting for the whole channel after a transfer: another customer may wait on
                    await LeaveWaitingChannelAsync(entry, $"{Me.Name} ended the chat.");
                foreach (var gateway in S.Gateways)
                    gateway.SessionEndedAsync(SessionId, "You left the queue.", false).Ignore();
                break;
            case SessionStatus.Connected:
                var channelEnded = await Channel().CustomerLeaveAsync(Me);
                await MarkEndedAsync(SessionOutcome.Ended);
                if (!channelEnded) // the others chat on; this customer's widgets hear that they are out
                {
                    foreach (var gateway in S.Gateways)
                        gateway.SessionEndedAsync(SessionId, "You left the chat.", false).Ignore();
                }
                break;
        }
    }

    public Task PositionChangedAsync(int position, int estimatedWaitSeconds)
    {
        if (S.Status == SessionStatus.Queued)
        {
            foreach (var gateway in S.Gateways)
                gateway.QueuePositionAsync(SessionId, position, estimatedWaitSeconds).Ignore();
            WatchPosition(); // the queue did not know where we are connected: from now on it tells the gateways itself
        }
        return Task.CompletedTask;
    }

    private void WatchPosition()
    {
        if (S.Status == SessionStatus.Queued && S.Gateways.Count > 0)
            Queue().WatchPositionAsync(SessionId, S.Gateways.ToArray()).Ignore();
    }

    public async Task<bool> AssignAsync(Guid channelId, string agentName)
    {
        if (S.Status != SessionStatus.Queued)
            return false;
        S.Status = SessionStatus.Connected;
        S.ChannelId = channelId; // the same channel after a transfer
        S.AgentName = agentName;
        await state.WriteStateAsync();
        foreach (var gateway in S.Gateways)
            gateway.AgentJoinedAsync(SessionId, channelId, agentName).Ignore();
        return true;
    }

    public Task ChannelEndedAsync(Guid channelId, string reason) =>
        S.ChannelId == channelId && S.Status != SessionStatus.Ended ? MarkEndedAsync(SessionOutcome.Ended) : Task.CompletedTask;

    public Task<string> GetStatusAsync() => Task.FromResult(S.Status);

    private async Task MarkEndedAsync(string outcome)
    {
        if (S.Status == SessionStatus.Ended)
            return; // already ended (the channel's notice can interleave with this grain ending it)
        S.Status = SessionStatus.Ended;
        S.Outcome = outcome;
        S.AwaySince = null;
        S.EndedAt = time.GetUtcNow();
        await records.RecordDurablyAsync(new SessionClosed(SessionId, S.EndedAt.Value, outcome, null));
        await state.WriteStateAsync();
        LingerThenDeactivate();
    }

    private void RequireStarted()
    {
        if (S.Status == SessionStatus.New)
            throw new SupportGridException(ErrorCodes.UnknownSession, "There is no such session.");
    }

    private IQueueGrain Queue() => GrainFactory.GetGrain<IQueueGrain>(QueueKey.For(S.Request!.Site, S.Request.Queue));

    private IChannelGrain Channel() => GrainFactory.GetGrain<IChannelGrain>(S.ChannelId!.Value);

    private static string NewSecret() =>
        Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static byte[] Hash(string secret) => SHA256.HashData(Encoding.UTF8.GetBytes(secret));
}
