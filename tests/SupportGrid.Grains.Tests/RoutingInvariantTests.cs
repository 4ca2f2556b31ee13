using System.Collections.Concurrent;
using System.Threading.Channels;
using SupportGrid.GrainInterfaces;
using Xunit.Abstractions;

namespace SupportGrid.Grains.Tests;

/// <summary>
/// Randomized concurrent schedules on three silos sharing a SQLite store, with one silo killed midway, checked against the
/// routing invariants: nothing assigned twice, nobody over capacity, nobody left waiting while an agent has room, and every
/// session ends with a complete record. Each seed is a different schedule; a failure names its seed.
/// </summary>
[Collection(ThreeSiloCollection.Name)]
public sealed class RoutingInvariantTests(ThreeSiloClusterFixture fixture, ITestOutputHelper output)
{
    private readonly IClusterClient _client = fixture.Client;

    /// <summary>One agent's console: its offers arrive here.</summary>
    private sealed class Console : IGatewayObserver
    {
        public readonly Channel<ChatOffer> Offers = System.Threading.Channels.Channel.CreateUnbounded<ChatOffer>();
        public Task OfferAsync(string agentId, ChatOffer offer) { Offers.Writer.TryWrite(offer); return Task.CompletedTask; }
        public Task OfferWithdrawnAsync(string agentId, Guid sessionId, string reason) => Task.CompletedTask;
        public Task InvitationAsync(string agentId, ChatInvitation invitation) => Task.CompletedTask;
        public Task InvitationClosedAsync(string agentId, Guid channelId, string reason) => Task.CompletedTask;
        public Task AgentStatusAsync(string agentId, string status) => Task.CompletedTask;
        public Task ChatLeftAsync(string agentId, Guid channelId, string reason) => Task.CompletedTask;
        public Task QueuePositionAsync(Guid sessionId, int position, int estimatedWaitSeconds) => Task.CompletedTask;

        public Task QueuePositionsAsync(IReadOnlyList<QueuePositionUpdate> updates) => Task.CompletedTask;
        public Task AgentJoinedAsync(Guid sessionId, Guid channelId, string agentName) => Task.CompletedTask;
        public Task SessionEndedAsync(Guid sessionId, string reason, bool offerMessage) => Task.CompletedTask;
    }

    [Theory]
    [InlineData(1, true)]
    [InlineData(2, false)]
    [InlineData(3, false)]
    public async Task RoutingHoldsItsInvariantsUnderRandomSchedules(int seed, bool killASilo)
    {
        var random = new Random(seed);
        var site = $"chaos{seed}{Guid.NewGuid():N}"[..16];
        var queue = QueueKey.For(site, "sales");
        const int agentCount = 4, customerCount = 24;
        var capacity = new Dictionary<string, int>();
        var consoles = new Dictionary<string, Console>();
        var assigned = new ConcurrentDictionary<Guid, string>();          // session -> the one agent who got it
        var active = new ConcurrentDictionary<string, ConcurrentDictionary<Guid, Guid>>(); // agent -> session -> channel
        var violations = new ConcurrentQueue<string>();
        var lenient = false; // the final phase: every agent available, accepting everything
        using var stop = new CancellationTokenSource();

        for (var i = 0; i < agentCount; i++)
        {
            var agentId = $"{site}-a{i}";
            capacity[agentId] = 1 + random.Next(2);
            consoles[agentId] = new Console();
            active[agentId] = new();
            await _client.GetGrain<IAgentGrain>(agentId).ConnectAsync("console-" + agentId,
                new AgentProfile(agentId, $"Agent {i}", capacity[agentId], [queue]), _client.CreateObjectReference<IGatewayObserver>(consoles[agentId]));
            await _client.GetGrain<IAgentGrain>(agentId).SetStatusAsync(AgentStatus.Available);
        }

        async Task AgentLoopAsync(string agentId, int agentSeed)
        {
            var rnd = new Random(agentSeed);
            var agent = _client.GetGrain<IAgentGrain>(agentId);
            await foreach (var offer in consoles[agentId].Offers.Reader.ReadAllAsync(stop.Token))
            {
                var roll = lenient ? 0 : rnd.Next(100);
                try
                {
                    if (roll < 70)
                    {
                        var chat = await agent.AcceptOfferAsync(offer.SessionId);
                        if (!assigned.TryAdd(offer.SessionId, agentId))
                            violations.Enqueue($"session {offer.SessionId} assigned to {agentId} and to {assigned[offer.SessionId]}");
                        active[agentId][offer.SessionId] = chat.ChannelId;
                        // The agent grain's own count: the test's view lags behind a chat that ended one-way.
                        var holding = (await agent.GetSnapshotAsync()).Chats.Count;
                        if (holding > capacity[agentId])
                            violations.Enqueue($"{agentId} holds {holding} chats, capacity {capacity[agentId]}");
                        _ = EndLaterAsync(agentId, offer.SessionId, chat.ChannelId, rnd.Next(50, 400));
                    }
                    else if (roll < 85)
                    {
                        await agent.DeclineOfferAsync(offer.SessionId);
                    }
                    else if (roll < 92)
                    {
                        await agent.SetStatusAsync(AgentStatus.Away);
                        await agent.SetStatusAsync(AgentStatus.Available);
                    }
                    // else: ignore it; the offer times out
                }
                catch (SupportGridException e) when (e.Code is ErrorCodes.OfferNotFound or ErrorCodes.AtCapacity or ErrorCodes.InvalidState)
                {
                    // Lost a race (timed out, withdrawn, customer left): the invariants say what must still hold.
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    output.WriteLine($"{agentId}: {e.GetType().Name}: {e.Message}"); // a silo died under the call; carry on
                }
            }
        }

        async Task EndLaterAsync(string agentId, Guid sessionId, Guid channelId, int afterMs)
        {
            await Task.Delay(afterMs); // the chat lasts a while: a schedule, not synchronisation
            for (var attempt = 0; attempt < 200; attempt++)
            {
                try
                {
                    await _client.GetGrain<IChannelGrain>(channelId).EndAsync(new MemberRef(Roles.Agent, agentId, ""), "done");
                    active[agentId].TryRemove(sessionId, out _);
                    return;
                }
                catch (Exception e) when (e is not SupportGridException)
                {
                    await Task.Delay(200); // the channel's silo died; it comes back on another
                }
            }
        }

        var agentLoops = consoles.Keys.Select((id, i) => Task.Run(() => AgentLoopAsync(id, seed * 100 + i))).ToList();
        var sessions = new List<Guid>();
        var starts = new List<Task>();
        for (var c = 0; c < customerCount; c++)
        {
            var sessionId = Guid.NewGuid();
            sessions.Add(sessionId);
            var delay = random.Next(0, 1500);
            var leaves = random.Next(100) < 20 ? random.Next(200, 2000) : -1;
            starts.Add(Task.Run(async () =>
            {
                await Task.Delay(delay);
                var customer = _client.GetGrain<ICustomerGrain>(sessionId);
                var request = new ChatRequest(site, "sales", $"Customer {sessionId:N}"[..16], null, null, "https://shop.example/", null, null, false, null);
                var observer = _client.CreateObjectReference<IGatewayObserver>(new Console());
                for (var attempt = 1; ; attempt++)
                {
                    try
                    {
                        // A widget retries a start that failed because a silo died under it, as this does.
                        await customer.StartAsync(request, observer, "conn-" + sessionId);
                        break;
                    }
                    catch (SupportGridException e) when (e.Code == ErrorCodes.InvalidState && attempt > 1)
                    {
                        break; // the earlier attempt did start it; only its answer was lost
                    }
                    catch (Exception e) when (e is not SupportGridException && attempt < 20)
                    {
                        output.WriteLine($"starting {sessionId} (attempt {attempt}): {e.GetType().Name}");
                        await Task.Delay(200);
                    }
                }
                if (leaves > 0)
                {
                    await Task.Delay(leaves);
                    for (var attempt = 1; attempt <= 20; attempt++)
                    {
                        try
                        {
                            await customer.EndAsync(); // a widget retries a leave that failed with its silo
                            break;
                        }
                        catch (Exception e) when (e is not SupportGridException)
                        {
                            output.WriteLine($"leaving {sessionId} (attempt {attempt}): {e.GetType().Name}");
                            await Task.Delay(200);
                        }
                    }
                }
            }));
        }

        if (killASilo)
        {
            await Task.Delay(800); // part of the schedule: the kill lands while customers are still arriving
            var victim = fixture.Cluster.Silos[^1];
            output.WriteLine($"killing {victim.SiloAddress}");
            await fixture.Cluster.KillSiloAsync(victim);
        }
        await Task.WhenAll(starts);

        // Final phase: two fresh agents who take everything. Nobody may stay waiting while they have room (the first
        // agents may have declined or missed a customer, and are then rightly never offered them again).
        lenient = true;
        for (var i = 0; i < 2; i++)
        {
            var closer = $"{site}-closer{i}";
            capacity[closer] = 5;
            consoles[closer] = new Console();
            active[closer] = new();
            await _client.GetGrain<IAgentGrain>(closer).ConnectAsync("console-" + closer,
                new AgentProfile(closer, $"Closer {i}", 5, [queue]), _client.CreateObjectReference<IGatewayObserver>(consoles[closer]));
            await _client.GetGrain<IAgentGrain>(closer).SetStatusAsync(AgentStatus.Available);
            agentLoops.Add(Task.Run(() => AgentLoopAsync(closer, 0)));
        }
        // A killed silo is declared dead by the membership protocol after some seconds; grains it held come back elsewhere.
        var open = new List<string>();
        await Eventually.HoldsAsync(async () =>
        {
            // As a console does after a reconnect (GetState), agents end the chats their grain says they hold, including
            // one whose accept answer was lost with the killed silo.
            // The closers' consoles also take the offers their grain lists and stay available, as a console that lost
            // pushes with a killed silo does after it reconnects.
            foreach (var agentId in consoles.Keys)
            {
                try
                {
                    var agent = _client.GetGrain<IAgentGrain>(agentId);
                    var snapshot = await agent.GetSnapshotAsync();
                    foreach (var chat in snapshot.Chats)
                        await _client.GetGrain<IChannelGrain>(chat.ChannelId).EndAsync(new MemberRef(Roles.Agent, agentId, ""), "done");
                    if (agentId.Contains("-closer"))
                    {
                        if (snapshot.Status != AgentStatus.Available)
                            await agent.SetStatusAsync(AgentStatus.Available);
                        foreach (var offer in snapshot.Offers)
                            consoles[agentId].Offers.Writer.TryWrite(offer);
                    }
                }
                catch (Exception e) when (e is not SupportGridException)
                {
                    output.WriteLine($"ending {agentId}'s chats: {e.GetType().Name}");
                }
            }
            open.Clear();
            foreach (var sessionId in sessions)
            {
                try
                {
                    var status = await _client.GetGrain<ICustomerGrain>(sessionId).GetStatusAsync();
                    if (status != SessionStatus.Ended)
                        open.Add($"{sessionId}: {status}");
                }
                catch (Exception e) when (e is not SupportGridException)
                {
                    open.Add($"{sessionId}: {e.GetType().Name}");
                }
            }
            if (open.Count > 0)
            {
                var q = await _client.GetGrain<IQueueGrain>(queue).GetSnapshotAsync();
                output.WriteLine($"{DateTime.UtcNow:HH:mm:ss.f} not ended: {string.Join(", ", open)}; queue waiting {string.Join(",", q.Waiting)} " +
                    $"offered {string.Join(",", q.OfferedTo.Select(o => $"{o.Key}->{string.Join("+", o.Value)}"))} agents {string.Join(",", q.AvailableAgentFreeSlots.Select(a => $"{a.Key}:{a.Value}"))}");
            }
            return open.Count == 0;
        }, $"seed {seed}: every session is served and ends while agents have room", seconds: 90);
        stop.Cancel();
        await Task.WhenAll(agentLoops.Select(t => t.ContinueWith(_ => { })));

        Assert.True(violations.IsEmpty, $"seed {seed}: " + string.Join("; ", violations));
        Assert.Empty((await _client.GetGrain<IQueueGrain>(queue).GetSnapshotAsync()).Waiting);
        foreach (var (agentId, cap) in capacity)
            Assert.True((await _client.GetGrain<IAgentGrain>(agentId).GetSnapshotAsync()).Chats.Count <= cap);

        var terminal = new[] { StepKinds.Ended, StepKinds.LeftQueue, StepKinds.Abandoned };
        foreach (var sessionId in sessions)
        {
            SessionRecord? record = null;
            await Eventually.HoldsAsync(async () =>
                (record = await _client.GetGrain<IRecordsGrain>(0).GetAsync(sessionId)) is { } r
                && r.Steps.Any(s => s.Kind == StepKinds.Requested) && r.Steps.Any(s => terminal.Contains(s.Kind)),
                $"seed {seed}: session {sessionId} has a complete record");
            Assert.True(record!.Steps.Count(s => s.Kind == StepKinds.Accepted) <= 1, $"seed {seed}: {sessionId} accepted twice");
        }
        output.WriteLine($"seed {seed}: {assigned.Count} of {customerCount} chats served, {customerCount - assigned.Count} left while waiting");
    }
}
