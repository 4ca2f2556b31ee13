using Orleans.Concurrency;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Records;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Queue;

/*
 * Offer protocol
 * --------------
 * The queue grain is the single authority on who may take a waiting customer. It offers each customer to one agent at a
 * time and gives each agent at most one open offer from this queue; an offer is a (session, agent, deadline) triple kept
 * in state. Only ClaimOffer with the matching agent, before the deadline fires, takes the customer out of the queue, so a
 * chat can never be given to two agents: the grain is single-threaded and the claim is the only dequeue.
 *
 * Calls from the queue to agents and customers are one-way; agents and customers call the queue and wait for the answer.
 * Keeping every waiting call pointed one way (gateway -> agent/customer -> queue/channel) means non-reentrant grains
 * can never wait on each other in a cycle.
 *
 * An agent's capacity is the agent grain's business: it reports its free slots here whenever they change, and it refuses
 * an accept that would exceed capacity. When an agent reports no free slots, its open offer is withdrawn and re-routed.
 *
 * Order and choice: waiting customers are kept sorted by WaitingOrder (priority from the verified tier, then the original
 * request time); each is offered to the agent the queue's policy picks (longest idle, least busy, or skills with
 * relaxation). A returning verified customer with a preferred agent (previous agent or account manager) is held for that
 * agent until PreferUntil (or until that agent declines or misses them): offered to no one else, and first in line when
 * that agent has room. Later customers are not held up meanwhile, and held customers cost a dispatch nothing (WaitingList
 * keeps them in per-agent lists beside the customers anyone may take).
 *
 * Positions are not pushed per dequeue: a timer sends changed positions at most once per PositionUpdateInterval, and the
 * same tick re-runs the dispatch so that time-based eligibility (affinity expiry, skills relaxation) takes effect.
 */
[Reentrant] // see "What is written when": a call's changes are made before its only await, the write
public sealed partial class QueueGrain(
    [PersistentState("queue", GrainStorage.Name)] IPersistentState<QueueState> state,
    IOptions<FlowOptions> options,
    IOptions<RoutingOptions> routing,
    SessionRecorder records,
    TimeProvider time,
    ILogger<QueueGrain> logger) : Grain, IQueueGrain
{
    private readonly FlowOptions _options = options.Value;
    private IRoutingPolicy _policy = LongestIdlePolicy.Instance;
    private QueueRouting _routing = new();
    private readonly Dictionary<Guid, DateTimeOffset> _overflowing = [];
    private BusinessHours? _hours;
    private bool _offlineWhenNoAgents = true;
    private WaitingOrder _order = new(_ => 0);
    private readonly Dictionary<Guid, IGrainTimer> _offerTimers = [];
    private readonly Dictionary<Guid, IGrainTimer> _claimTimers = [];
    private readonly Dictionary<Guid, int> _notifiedPositions = [];
    // Where each waiting customer is connected (soft state, from the customer grain): position changes go to each
    // gateway in one call per tick. A customer missing here is told through its grain, which then fills this in.
    private readonly Dictionary<Guid, IGatewayObserver[]> _watchers = [];
    // Index of S.OpenOffers by agent, so that dispatching and withdrawing cost what one agent holds, not what all hold.
    private readonly Dictionary<string, HashSet<Guid>> _offersByAgent = [];
    // When each agent was last offered a customer: an agent who was just offered one is no longer "idle", so the next
    // customer goes to the next agent instead of piling every waiting customer on the one idle longest.
    private readonly Dictionary<string, DateTimeOffset> _lastOfferedAt = [];
    private IGrainTimer? _positionTimer;
    private WaitingList _waiting = null!;
    private bool _positionsDirty;
    private bool _softChanges;
    private CoalescedWrites _writes = null!;
    private IDisposable? _metrics;

    private QueueState S => state.State;
    private string Key => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        var (site, queue) = QueueKey.Parse(Key);
        var settings = routing.Value;
        Apply(ConfiguredOrSet());
        _hours = settings.Hours.GetValueOrDefault(site);
        _order = new WaitingOrder(entry => settings.PriorityOf(entry.Customer.Tier));
        _waiting = new WaitingList(state, new StatePages<WaitingPage>(ServiceProvider, this.GetGrainId(), "queue-waiting"), _order);
        _writes = new CoalescedWrites(WriteAsync);
        await _waiting.LoadAsync();
        if (S.SecondsPerDequeue <= 0)
            S.SecondsPerDequeue = _options.InitialSecondsPerPosition.TotalSeconds;
        foreach (var (sessionId, offer) in S.Offers)
            S.OpenOffers[sessionId] = [offer]; // stored by the first version
        S.Offers.Clear();
        // Offers survive in state; re-arm their deadlines (an overdue one fires at once).
        foreach (var (sessionId, offers) in S.OpenOffers)
        {
            foreach (var offer in offers)
                IndexOffer(sessionId, offer.AgentId);
            ArmOfferTimer(sessionId, offers[0].ExpiresAt);
        }
        foreach (var (sessionId, claim) in S.Claimed)
        {
            _waiting.Claim(sessionId); // still stored in its page until released
            ArmClaimTimer(sessionId, claim);
        }
        // Declines are soft state and may be lost with a silo, but who transferred a customer is in the stored entry itself.
        foreach (var entry in _waiting.InOrder.ToList())
            Place(entry);
        _positionTimer = this.RegisterGrainTimer(TickAsync, _options.PositionUpdateInterval, _options.PositionUpdateInterval);
        _positionsDirty = _waiting.Count > 0;
        _metrics = SupportGridMetrics.TrackQueue(Key, () => _waiting.Count);
    }

    public Task<QueueAvailability> GetAvailabilityAsync() => Task.FromResult(Availability());

    public Task<QueueSettingsView> GetSettingsAsync() => Task.FromResult(new QueueSettingsView(Key, _routing.ToSettings(), S.Settings is not null));

    public async Task<QueueSettingsView> UpdateSettingsAsync(QueueSettings? settings)
    {
        var (site, queue) = QueueKey.Parse(Key);
        var next = settings is null ? routing.Value.For(site, queue) : QueueRouting.From(settings, site, queue);
        S.Settings = settings is null ? null : next.ToSettings();
        _softChanges = true; // the settings live in the queue's own record
        Apply(next);
        // Offers already open keep their round; from now on the new policy, fan-out and waits apply.
        Dispatch();
        _positionsDirty = true;
        await SaveAsync(wholeRecord: true);
        return await GetSettingsAsync();
    }

    private QueueRouting ConfiguredOrSet()
    {
        var (site, queue) = QueueKey.Parse(Key);
        return S.Settings is { } set ? QueueRouting.From(set, site, queue) : routing.Value.For(site, queue);
    }

    private void Apply(QueueRouting queueRouting)
    {
        _routing = queueRouting;
        _policy = queueRouting.CreatePolicy();
        _offlineWhenNoAgents = queueRouting.OfflineWhenNoAgents ?? routing.Value.OfflineWhenNoAgents;
    }

    private QueueAvailability Availability()
    {
        if (_hours is not null && !_hours.IsOpen(time.GetUtcNow()))
            return new QueueAvailability(false, "closed", $"We are closed right now (open {_hours.Describe()}). Leave a message and we will get back to you.");
        if (_offlineWhenNoAgents && S.Agents.Count == 0)
            return new QueueAvailability(false, "no_agents", "No one is available right now. Leave a message and we will get back to you.");
        return new QueueAvailability(true, "open", "");
    }

    public async Task<int> EnqueueAsync(QueueEntry entry)
    {
        if (_waiting.PositionOf(entry.SessionId) is { } position)
            return position;
        if (Availability() is { Open: false } offline)
            throw new SupportGridException(ErrorCodes.Offline, offline.Message);
        var index = _waiting.Add(entry);
        Place(entry);
        _notifiedPositions[entry.SessionId] = index + 1;
        _positionsDirty |= index < _waiting.Count - 1; // someone was passed: their position changed
        Dispatch();
        await SaveAsync();
        return index + 1;
    }

    public async Task<QueueEntry?> LeaveAsync(Guid sessionId)
    {
        if (S.Claimed.Remove(sessionId, out var claim))
        {
            // An agent is starting the chat: the claim ends here, and the customer grain, which takes one agent only,
            // refuses that agent. The entry goes back to the caller, so that a customer who waited for a whole channel
            // (after a transfer) can hand the place on to another customer of it rather than leave them with no one.
            if (_claimTimers.Remove(sessionId, out var timer))
                timer.Dispose();
            _waiting.Release(sessionId);
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.OfferWithdrawn, claim.AgentId, "customer left"));
            _softChanges = true;
            await SaveAsync();
            return claim.Entry;
        }
        if (_waiting.Remove(sessionId) is not { } entry)
            return null;
        S.Excluded.Remove(sessionId);
        ForgetPosition(sessionId);
        _overflowing.Remove(sessionId);
        foreach (var offer in RemoveOffers(sessionId))
        {
            this.GetAgent(offer.AgentId).WithdrawOfferAsync(sessionId, "customer left", false).Ignore();
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.OfferWithdrawn, offer.AgentId, "customer left"));
        }
        _positionsDirty = true;
        Dispatch();
        await SaveAsync();
        return entry;
    }

    public Task WatchPositionAsync(Guid sessionId, IGatewayObserver[] gateways)
    {
        if (_waiting.PositionOf(sessionId) is not null && gateways.Length > 0)
            _watchers[sessionId] = gateways;
        return Task.CompletedTask;
    }

    private void ForgetPosition(Guid sessionId)
    {
        _notifiedPositions.Remove(sessionId);
        _watchers.Remove(sessionId);
    }

    public Task<int?> GetPositionAsync(Guid sessionId)
    {
        return Task.FromResult(_waiting.PositionOf(sessionId));
    }

    public Task<int> AgentAvailableAsync(string agentId, int freeSlots, int capacity, DateTimeOffset idleSince, IReadOnlyDictionary<string, int> skills)
    {
        S.Agents[agentId] = new AgentAvailability(freeSlots, idleSince, capacity, skills);
        WithdrawOffersTo(agentId, "agent at capacity", keep: Math.Max(0, freeSlots));
        Dispatch();
        _softChanges = true;
        return Task.FromResult(_routing.Priority);
    }

    public Task AgentUnavailableAsync(string agentId)
    {
        _lastOfferedAt.Remove(agentId);
        if (S.Agents.Remove(agentId))
        {
            WithdrawOffersTo(agentId, "agent unavailable");
            Dispatch();
            _softChanges = true;
        }
        return Task.CompletedTask;
    }

    public Task<QueueEntry> ClaimOfferAsync(Guid sessionId, string agentId)
    {
        if (OfferTo(sessionId, agentId) is null)
            throw new SupportGridException(ErrorCodes.OfferNotFound, "This chat is not offered to you any more (it timed out, was taken or the customer left).");
        var entry = _waiting.Claim(sessionId)
            ?? throw new InvalidOperationException($"Session {sessionId} has an offer but is not waiting.");
        SupportGridMetrics.ChatTaken(Key, time.GetUtcNow() - entry.EnqueuedAt);
        foreach (var other in RemoveOffers(sessionId).Where(o => o.AgentId != agentId))
        {
            // Offered to several at once: the others lose it, without counting as missed.
            this.GetAgent(other.AgentId).WithdrawOfferAsync(sessionId, "a colleague took it", false).Ignore();
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.OfferWithdrawn, other.AgentId, "a colleague took it"));
        }
        S.Excluded.Remove(sessionId);
        ForgetPosition(sessionId);
        if (S.Agents.TryGetValue(agentId, out var availability))
            S.Agents[agentId] = availability with { FreeSlots = availability.FreeSlots - 1 };
        var claim = new ClaimedEntry(entry, agentId, time.GetUtcNow() + _options.ClaimTimeout);
        S.Claimed[sessionId] = claim;
        ArmClaimTimer(sessionId, claim);
        UpdateDequeueRate();
        _positionsDirty = true;
        Dispatch();
        // Nothing to write now: the customer stays in its page until the claim is released (see WaitingList), and the
        // claim itself is soft state. So the one call every accept makes does not wait for the disk.
        _softChanges = true;
        return Task.FromResult(entry);
    }

    public async Task CompleteClaimAsync(Guid sessionId)
    {
        if (_claimTimers.Remove(sessionId, out var timer))
            timer.Dispose();
        if (S.Claimed.Remove(sessionId))
            _softChanges = true;
        // The chat started: the customer leaves storage too (or, if a restart lost the claim, the serving order).
        if (_waiting.Release(sessionId))
        {
            foreach (var offer in RemoveOffers(sessionId))
                this.GetAgent(offer.AgentId).WithdrawOfferAsync(sessionId, "a colleague took it", false).Ignore();
            S.Excluded.Remove(sessionId);
            ForgetPosition(sessionId);
            await SaveAsync();
        }
    }

    public async Task ReturnAsync(QueueEntry entry)
    {
        if (_waiting.Contains(entry.SessionId) || S.Claimed.ContainsKey(entry.SessionId))
            return;
        _waiting.Add(entry);
        Place(entry); // the claim cleared the exclusions
        _positionsDirty = true;
        Dispatch();
        await SaveAsync();
    }

    private void ArmClaimTimer(Guid sessionId, ClaimedEntry claim)
    {
        _claimTimers.Replace(sessionId, this.At(claim.Until, time, _ => ClaimLapsedAsync(sessionId, claim)));
    }

    private Task ClaimLapsedAsync(Guid sessionId, ClaimedEntry lapsed)
    {
        _claimTimers.Remove(sessionId);
        if (!S.Claimed.TryGetValue(sessionId, out var current) || current != lapsed)
            return Task.CompletedTask;
        S.Claimed.Remove(sessionId);
        _waiting.Release(sessionId); // written with the next save; the customer grain returns them if the chat did not start
        Exclude(sessionId, lapsed.AgentId); // if they come back, not to the agent who let the claim lapse (nor held for them)
        _softChanges = true;
        LogClaimLapsed(logger, Key, sessionId, lapsed.AgentId);
        // The customer grain knows whether the chat started; if not, it comes back through ReturnAsync.
        GrainFactory.GetGrain<ICustomerGrain>(sessionId).ClaimLapsedAsync(lapsed.Entry).Ignore();
        return Task.CompletedTask;
    }

    public Task DeclineOfferAsync(Guid sessionId, string agentId)
    {
        if (OfferTo(sessionId, agentId) is not null)
        {
            RemoveOffer(sessionId, agentId);
            Exclude(sessionId, agentId);
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.Declined, agentId, null));
            SupportGridMetrics.OfferDeclined(Key);
            Dispatch();
            _softChanges = true;
        }
        return Task.CompletedTask;
    }

    public Task<QueueSnapshot> GetSnapshotAsync() => Task.FromResult(new QueueSnapshot(
        _waiting.InOrder.Select(e => e.SessionId).ToList(),
        S.OpenOffers.ToDictionary(o => o.Key, o => (IReadOnlyList<string>)o.Value.Select(p => p.AgentId).ToList()),
        S.Agents.ToDictionary(a => a.Key, a => a.Value.FreeSlots)));

    /// <summary>
    /// Offers waiting customers without an open offer to agents with room and no open offer from this queue: first each
    /// such agent's own customers (held for them: a returning customer's previous agent, an account manager), then the
    /// others in serving order, each to the agent the policy picks. Returns true if it made an offer.
    /// </summary>
    /// <remarks>It walks only the lists of agents with room and the customers any agent may take: customers held for
    /// someone else cost nothing, so ten thousand of them waiting for their account managers do not slow the queue
    /// down (the route benchmark's <c>--waiting</c>).</remarks>
    private bool Dispatch()
    {
        // An agent may hold as many open offers from this queue as it has free slots; a candidate's FreeSlots is what is
        // left after its open offers, so least-busy counts offers as load and nobody is offered more than they can take.
        var open = new List<AgentCandidate>();
        foreach (var (agentId, agent) in S.Agents)
        {
            var free = agent.FreeSlots - (_offersByAgent.TryGetValue(agentId, out var held) ? held.Count : 0);
            var idleSince = _lastOfferedAt.TryGetValue(agentId, out var offeredAt) && offeredAt > agent.IdleSince ? offeredAt : agent.IdleSince;
            if (free > 0)
                open.Add(new AgentCandidate(agentId, free, agent.Capacity, idleSince, agent.Skills));
        }
        if (open.Count == 0)
            return false;
        var offers = 0;
        var now = time.GetUtcNow();
        foreach (var candidate in open.ToArray())
        {
            var own = _waiting.HeldFor(candidate.AgentId);
            for (var i = 0; i < own.Count && IndexOf(open, candidate.AgentId) is var at and >= 0; i++)
            {
                var entry = own[i];
                if (S.OpenOffers.ContainsKey(entry.SessionId) || _overflowing.ContainsKey(entry.SessionId))
                    continue;
                if (HigherPriorityWaitsFor(open[at], routing.Value.PriorityOf(entry.Customer.Tier), now))
                    break; // a VIP this agent could take comes first (the rest of the list is of this priority or lower)
                // Their own agent still has to meet the queue's policy (a skills queue's required skills).
                if (_policy.Choose(entry, [open[at]], now) is null)
                    continue;
                Offer(entry, [candidate.AgentId], open, now, now.AddTicks(++offers));
            }
        }
        foreach (var entry in _waiting.Unheld)
        {
            if (open.Count == 0)
                break;
            if (S.OpenOffers.ContainsKey(entry.SessionId) || _overflowing.ContainsKey(entry.SessionId))
                continue;
            var chosen = ChooseAgents(entry, open, now);
            if (chosen.Count > 0)
                Offer(entry, chosen, open, now, now.AddTicks(++offers)); // distinct stamps: agents offered in a round take turns
        }
        return offers > 0;
    }

    /// <summary>Whether a customer anyone may take, of higher priority than <paramref name="priority"/> and without an
    /// open offer, could go to <paramref name="candidate"/>. Walks only the higher-priority head of the serving order.</summary>
    private bool HigherPriorityWaitsFor(AgentCandidate candidate, int priority, DateTimeOffset now)
    {
        foreach (var entry in _waiting.Unheld)
        {
            if (routing.Value.PriorityOf(entry.Customer.Tier) <= priority)
                return false; // the serving order is by priority first
            if (S.OpenOffers.ContainsKey(entry.SessionId) || _overflowing.ContainsKey(entry.SessionId))
                continue;
            if (S.Excluded.TryGetValue(entry.SessionId, out var excluded) && excluded.Contains(candidate.AgentId))
                continue;
            if (_policy.Choose(entry, [candidate], now) is not null)
                return true;
        }
        return false;
    }

    private static int IndexOf(List<AgentCandidate> open, string agentId)
    {
        for (var i = 0; i < open.Count; i++)
        {
            if (open[i].AgentId == agentId)
                return i;
        }
        return -1;
    }

    /// <summary>Offers <paramref name="entry"/> to <paramref name="chosen"/>, who each have one slot less in
    /// <paramref name="open"/> (and leave it when none is left) and count as offered at <paramref name="stamp"/>.</summary>
    private void Offer(QueueEntry entry, List<string> chosen, List<AgentCandidate> open, DateTimeOffset now, DateTimeOffset stamp)
    {
        for (var i = open.Count - 1; i >= 0; i--)
        {
            if (!chosen.Contains(open[i].AgentId))
                continue;
            _lastOfferedAt[open[i].AgentId] = stamp;
            if (open[i].FreeSlots > 1)
                open[i] = open[i] with { FreeSlots = open[i].FreeSlots - 1, IdleSince = stamp };
            else
                open.RemoveAt(i);
        }
        var expiresAt = now + _options.OfferTimeout;
        S.OpenOffers[entry.SessionId] = chosen.Select(agentId => new PendingOffer(agentId, expiresAt)).ToList();
        foreach (var agentId in chosen)
            IndexOffer(entry.SessionId, agentId);
        ArmOfferTimer(entry.SessionId, expiresAt);
        var waited = (int)Math.Max(0, (now - entry.EnqueuedAt).TotalSeconds);
        var chatOffer = new ChatOffer(entry.SessionId, Key, entry.Customer, entry.PageUrl, entry.PageTitle, waited, expiresAt, entry.Transfer);
        foreach (var agentId in chosen)
        {
            this.GetAgent(agentId).ReceiveOfferAsync(Key, chatOffer).Ignore();
            records.Record(new SessionStepped(entry.SessionId, now, StepKinds.Offered, agentId, null));
            LogOffered(logger, Key, entry.SessionId, agentId);
        }
    }

    /// <summary>
    /// The agents (up to <see cref="QueueRouting.OfferToAgents"/>) the policy picks for <paramref name="entry"/> among
    /// <paramref name="open"/>, leaving out those excluded for it.
    /// </summary>
    /// <remarks>Its own method, without lambdas: <see cref="Dispatch"/> walks every waiting customer, and a closure over
    /// the loop's variables was allocated for each of them on every call (28% of all allocation in the route benchmark
    /// with a backlog).</remarks>
    private List<string> ChooseAgents(QueueEntry entry, List<AgentCandidate> open, DateTimeOffset now)
    {
        List<AgentCandidate>? eligible = null;
        if (S.Excluded.TryGetValue(entry.SessionId, out var excluded))
        {
            eligible = new List<AgentCandidate>(open.Count);
            foreach (var candidate in open)
            {
                if (!excluded.Contains(candidate.AgentId))
                    eligible.Add(candidate);
            }
        }
        var chosen = new List<string>(1);
        while (chosen.Count < _routing.OfferToAgents && _policy.Choose(entry, eligible ?? open, now) is { } agentId)
        {
            chosen.Add(agentId);
            if (chosen.Count == _routing.OfferToAgents)
                break;
            eligible ??= [.. open];
            eligible.RemoveAll(c => c.AgentId == agentId);
        }
        return chosen;
    }

    /// <summary>Who a waiting customer may go to, from their entry alone (on enqueue, on return after a lapsed claim, and
    /// at activation): never straight back to the agent who transferred them; held for their preferred agent.</summary>
    private void Place(QueueEntry entry)
    {
        if (entry.Transfer is { } transfer)
            Exclude(entry.SessionId, transfer.FromAgentId);
        HoldIfPreferred(entry);
    }

    /// <summary>
    /// A returning verified customer with a preferred agent (their previous agent, or their account manager) is held for
    /// that agent until <see cref="QueueEntry.PreferUntil"/>, unless that agent already declined or missed them.
    /// </summary>
    private void HoldIfPreferred(QueueEntry entry)
    {
        if (entry.PreferredAgentId is { } agentId && time.GetUtcNow() < entry.PreferUntil
            && !(S.Excluded.TryGetValue(entry.SessionId, out var excluded) && excluded.Contains(agentId)))
            _waiting.Hold(entry.SessionId, agentId);
    }

    /// <summary>Held customers whose wait for their own agent is over: any agent may take them now.</summary>
    private void ReleaseExpiredHolds()
    {
        var now = time.GetUtcNow();
        List<Guid>? expired = null;
        foreach (var (entry, _) in _waiting.Held)
        {
            if (entry.PreferUntil is not { } until || now >= until)
                (expired ??= []).Add(entry.SessionId);
        }
        foreach (var sessionId in expired ?? [])
            _waiting.Unhold(sessionId);
    }

    private void ArmOfferTimer(Guid sessionId, DateTimeOffset expiresAt)
    {
        _offerTimers.Replace(sessionId, this.At(expiresAt, time, _ => OfferExpiredAsync(sessionId, expiresAt)));
    }

    private Task OfferExpiredAsync(Guid sessionId, DateTimeOffset expiresAt)
    {
        if (!S.OpenOffers.TryGetValue(sessionId, out var current) || current[0].ExpiresAt != expiresAt)
            return Task.CompletedTask;
        foreach (var expired in RemoveOffers(sessionId))
        {
            Exclude(sessionId, expired.AgentId);
            this.GetAgent(expired.AgentId).WithdrawOfferAsync(sessionId, "offer timed out", true).Ignore();
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.OfferTimedOut, expired.AgentId, null));
            LogOfferExpired(logger, Key, sessionId, expired.AgentId);
            SupportGridMetrics.OfferTimedOut(Key);
        }
        Dispatch();
        _softChanges = true;
        return Task.CompletedTask;
    }

    /// <summary>Withdraws the agent's open offers beyond the first <paramref name="keep"/> (the newest go first).</summary>
    private void WithdrawOffersTo(string agentId, string reason, int keep = 0)
    {
        if (!_offersByAgent.TryGetValue(agentId, out var held) || held.Count <= keep)
            return;
        var sessions = held.OrderBy(sessionId => S.OpenOffers[sessionId][0].ExpiresAt).Skip(keep).ToList();
        foreach (var sessionId in sessions)
        {
            RemoveOffer(sessionId, agentId);
            this.GetAgent(agentId).WithdrawOfferAsync(sessionId, reason, false).Ignore();
            records.Record(new SessionStepped(sessionId, time.GetUtcNow(), StepKinds.OfferWithdrawn, agentId, reason));
        }
    }

    private PendingOffer? OfferTo(Guid sessionId, string agentId) =>
        S.OpenOffers.TryGetValue(sessionId, out var offers) ? offers.Find(o => o.AgentId == agentId) : null;

    /// <summary>Removes every open offer of the customer; returns them.</summary>
    private List<PendingOffer> RemoveOffers(Guid sessionId)
    {
        if (_offerTimers.Remove(sessionId, out var timer))
            timer.Dispose();
        if (!S.OpenOffers.Remove(sessionId, out var offers))
            return [];
        foreach (var offer in offers)
            UnindexOffer(sessionId, offer.AgentId);
        return offers;
    }

    /// <summary>Removes one agent's offer of the customer; the customer is free for the next round when none is left.</summary>
    private void RemoveOffer(Guid sessionId, string agentId)
    {
        if (!S.OpenOffers.TryGetValue(sessionId, out var offers))
            return;
        offers.RemoveAll(o => o.AgentId == agentId);
        UnindexOffer(sessionId, agentId);
        if (offers.Count == 0)
            RemoveOffers(sessionId);
    }

    private void IndexOffer(Guid sessionId, string agentId)
    {
        if (!_offersByAgent.TryGetValue(agentId, out var sessions))
            _offersByAgent[agentId] = sessions = [];
        sessions.Add(sessionId);
    }

    private void UnindexOffer(Guid sessionId, string agentId)
    {
        if (_offersByAgent.TryGetValue(agentId, out var sessions) && sessions.Remove(sessionId) && sessions.Count == 0)
            _offersByAgent.Remove(agentId);
    }

    private void Exclude(Guid sessionId, string agentId)
    {
        if (!S.Excluded.TryGetValue(sessionId, out var set))
            S.Excluded[sessionId] = set = [];
        set.Add(agentId);
        if (_waiting.HolderOf(sessionId) == agentId)
            _waiting.Unhold(sessionId); // their own agent declined or missed them: anyone may take them now
    }

    private void UpdateDequeueRate()
    {
        var now = time.GetUtcNow();
        if (S.LastDequeueAt is { } last)
        {
            var seconds = Math.Clamp((now - last).TotalSeconds, 1, 600);
            S.SecondsPerDequeue = 0.8 * S.SecondsPerDequeue + 0.2 * seconds;
        }
        S.LastDequeueAt = now;
    }

    private async Task TickAsync(CancellationToken cancellationToken)
    {
        // Time-based eligibility (affinity expiry, skills relaxation) changes without any call: re-run the dispatch.
        ReleaseExpiredHolds();
        if (_waiting.Count > S.OpenOffers.Count && Dispatch())
            _softChanges = true;
        Overflow();
        PushPositions();
        if (_softChanges)
            await SaveAsync(wholeRecord: true);
    }

    /*
     * What is written when
     * --------------------
     * The queue grain is one thread for a whole queue. It is reentrant so that calls go on while a write is under way:
     * each call makes all its changes before its one await, the write, and writes are coalesced (CoalescedWrites: one in
     * flight, the next one takes every change made meanwhile), so a busy queue writes once per storage round trip. Only
     * changes of who waits are written before the call returns (enqueue, leave, chat started, return, settings), and only
     * the pages that changed, not the queue's own record (see WaitingList): a customer told "you are queued" can rely on
     * it. A claim writes nothing: the customer stays stored until the chat started, so a restart in between offers them
     * again, and the customer grain, which takes one agent only, settles who gets the chat. The rest is soft state that the agents and
     * timers rebuild: agents' free slots (every agent reports again on any change), open offers and declines, confirmed
     * claims. It is written by the one-second tick (or with a change of the page list), so a lost silo loses at most a
     * second of it; the queue's record holds every open offer, so writing it with every change of who waits would make
     * each enqueue cost as much as all open offers. What that can cost is bounded: an offer the queue forgot cannot be claimed (the
     * agent is told it is gone) and the customer is offered again; a claim the queue forgot it confirmed lapses into a
     * question to the customer grain, which answers that the chat started.
     */
    private Task SaveAsync(bool wholeRecord = false) => _writes.WriteAsync(wholeRecord);

    private async Task WriteAsync(bool wholeRecord)
    {
        var soft = _softChanges;
        _softChanges = false;
        if (!await _waiting.SaveAsync(wholeRecord))
            _softChanges |= soft; // still to be written by the tick
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        _metrics?.Dispose();
        if (_softChanges)
            await SaveAsync(wholeRecord: true);
    }

    /// <summary>
    /// Customers who waited longer than the queue's MaxWait (and have no open offer) are told, one-way, to move on: to the
    /// overflow queue, or to leaving a message. The customer grain does the move (it leaves this queue itself), so a lost
    /// notice only delays it: the customer is still here and is told again a few seconds later.
    /// </summary>
    private void Overflow()
    {
        if (_routing.MaxWait is not { } maxWait)
            return;
        var now = time.GetUtcNow();
        var overflowTo = _routing.OverflowTo is { } target ? QueueKey.For(QueueKey.Parse(Key).Site, target) : null;
        foreach (var entry in _waiting.InOrder)
        {
            if (now - entry.WaitingSince < maxWait || S.OpenOffers.ContainsKey(entry.SessionId))
                continue;
            if (_overflowing.TryGetValue(entry.SessionId, out var told) && now - told < OverflowRetry)
                continue;
            _overflowing[entry.SessionId] = now;
            GrainFactory.GetGrain<ICustomerGrain>(entry.SessionId).WaitedTooLongAsync(Key, overflowTo).Ignore();
        }
    }

    private static readonly TimeSpan OverflowRetry = TimeSpan.FromSeconds(5);

    /// <summary>
    /// Sends the positions that changed since the last tick: one call per gateway with all of its customers' changes, so
    /// a tick costs one grain message per gateway however many wait; customers with no known gateway are told through
    /// their own grain (one message each, once: the grain then registers its gateways with WatchPositionAsync).
    /// </summary>
    private void PushPositions()
    {
        if (!_positionsDirty)
            return;
        _positionsDirty = false;
        var agents = Math.Max(1, S.Agents.Count);
        var waiting = _waiting.InOrder;
        Dictionary<IGatewayObserver, List<QueuePositionUpdate>>? byGateway = null;
        for (var i = 0; i < waiting.Count; i++)
        {
            var entry = waiting[i];
            var position = i + 1;
            if (_notifiedPositions.TryGetValue(entry.SessionId, out var told) && told == position)
                continue;
            _notifiedPositions[entry.SessionId] = position;
            var eta = (int)Math.Ceiling(position * S.SecondsPerDequeue / agents);
            if (_watchers.TryGetValue(entry.SessionId, out var gateways))
            {
                var update = new QueuePositionUpdate(entry.SessionId, position, eta);
                byGateway ??= [];
                foreach (var gateway in gateways)
                {
                    if (!byGateway.TryGetValue(gateway, out var updates))
                        byGateway[gateway] = updates = [];
                    updates.Add(update);
                }
            }
            else
            {
                GrainFactory.GetGrain<ICustomerGrain>(entry.SessionId).PositionChangedAsync(position, eta).Ignore();
            }
        }
        if (byGateway is null)
            return;
        foreach (var (gateway, updates) in byGateway)
            gateway.QueuePositionsAsync(updates).Ignore();
    }

    private IAgentGrain GetAgent(string agentId) => GrainFactory.GetGrain<IAgentGrain>(agentId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Queue {Queue}: agent {AgentId} claimed session {SessionId} but never confirmed; asking the session")]
    private static partial void LogClaimLapsed(ILogger logger, string queue, Guid sessionId, string agentId);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Queue {Queue} offered session {SessionId} to agent {AgentId}")]
    private static partial void LogOffered(ILogger logger, string queue, Guid sessionId, string agentId);

    [LoggerMessage(Level = LogLevel.Information, Message = "Queue {Queue}: offer of session {SessionId} to agent {AgentId} timed out")]
    private static partial void LogOfferExpired(ILogger logger, string queue, Guid sessionId, string agentId);
}
