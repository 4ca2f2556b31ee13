using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hosting;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Cluster.Tests;

/// <summary>
/// A client of a support floor that behaves as the widget and the console do when their gateway goes away: when the
/// connection drops (the gateway died) or the gateway pushes <c>Reconnect</c> (it is draining), it finishes the call it
/// is making, connects to another gateway (the load balancer's job, done here by <see cref="LocalCluster"/>) and
/// resumes from the last sequence number it saw. Every event it saw, pushed or fetched on resume, is kept by number.
/// </summary>
public abstract class FloorClient(LocalCluster cluster) : IAsyncDisposable
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private volatile bool _disposed;

    public HubConnection Connection { get; private set; } = null!;
    public LocalCluster.Member Gateway { get; private set; } = null!;

    /// <summary><c>Reconnect</c> pushes received, and moves to another gateway made.</summary>
    public int ReconnectPushes;
    public int Moves;

    /// <summary>Errors a call on this client saw (a real client would show them, or retry them).</summary>
    public ConcurrentQueue<string> Errors { get; } = new();

    protected abstract HubConnection Build(LocalCluster.Member gateway);

    /// <summary>After a move: re-bind and fetch what was missed (on the new connection, before any other call).</summary>
    protected abstract Task ResumeAsync(HubConnection connection);

    protected async Task ConnectAsync(LocalCluster.Member gateway)
    {
        var connection = Wire(Build(gateway));
        await connection.StartAsync();
        (Connection, Gateway) = (connection, gateway);
    }

    private HubConnection Wire(HubConnection connection)
    {
        connection.On(GatewayDrain.ReconnectMethod, () =>
        {
            Interlocked.Increment(ref ReconnectPushes);
            _ = MoveAsync(connection);
        });
        connection.Closed += error =>
        {
            _ = MoveAsync(connection);
            return Task.CompletedTask;
        };
        return connection;
    }

    /// <summary>One call on the current connection. A move waits for it, and it waits for a move.</summary>
    public async Task<T> CallAsync<T>(Func<HubConnection, Task<T>> call)
    {
        await _gate.WaitAsync();
        try
        {
            return await call(Connection);
        }
        finally
        {
            _gate.Release();
        }
    }

    private async Task MoveAsync(HubConnection from)
    {
        await _gate.WaitAsync();
        try
        {
            if (_disposed || Connection != from)
                return;
            var deadline = Stopwatch.StartNew();
            while (true)
            {
                var target = cluster.Gateways.First(g => g != Gateway && !g.Process.HasExited);
                var connection = Wire(Build(target));
                try
                {
                    await connection.StartAsync();
                    await ResumeAsync(connection);
                    (Connection, Gateway) = (connection, target);
                    Interlocked.Increment(ref Moves);
                    break;
                }
                catch (Exception e) when (deadline.Elapsed < TimeSpan.FromSeconds(30))
                {
                    Errors.Enqueue($"move to {target.Process.Name}: {e.GetType().Name}: {e.Message}");
                    await connection.DisposeAsync();
                    await Task.Delay(200);
                }
            }
        }
        finally
        {
            _gate.Release();
        }
        await from.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        _disposed = true;
        await _gate.WaitAsync();
        try
        {
            await Connection.DisposeAsync();
        }
        finally
        {
            _gate.Release();
        }
        GC.SuppressFinalize(this);
    }
}

/// <summary>A shopper in the queue or in a chat.</summary>
public sealed class FloorCustomer(LocalCluster cluster, string name) : FloorClient(cluster)
{
    public string Name => name;
    public StartChatResult Start { get; private set; } = null!;

    /// <summary>Every channel event this customer saw (pushed, or fetched on resume), by sequence number.</summary>
    public ConcurrentDictionary<long, ChannelEvent> Seen { get; } = new();
    public TaskCompletionSource<string> Joined { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public long LastSeq => Seen.IsEmpty ? 0 : Seen.Keys.Max();

    public static async Task<FloorCustomer> StartChatAsync(LocalCluster cluster, LocalCluster.Member gateway, string name)
    {
        var customer = new FloorCustomer(cluster, name);
        await customer.ConnectAsync(gateway);
        customer.Start = await customer.CallAsync(c => c.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", "sales", name, null, null, "http://127.0.0.1/demo/", "Demo shop", null, null)));
        return customer;
    }

    protected override HubConnection Build(LocalCluster.Member gateway)
    {
        var connection = LocalCluster.CustomerConnection(gateway);
        connection.On<ChannelEvent>("Message", e => Seen[e.Seq] = e);
        connection.On<string>("AgentJoined", agent => Joined.TrySetResult(agent));
        return connection;
    }

    protected override async Task ResumeAsync(HubConnection connection)
    {
        var resumed = await connection.InvokeAsync<ResumeResult>("Resume", Start.ResumeToken, LastSeq);
        foreach (var e in resumed.Events)
            Seen[e.Seq] = e;
    }

    /// <summary>Sends until acknowledged, repeating with the same client message id (stored once).</summary>
    public Task<(long Seq, TimeSpan Took)> SayAsync(string text, string id, TimeSpan deadline, Action<string>? log = null) =>
        ChatParties.SendUntilAcknowledgedAsync(t => CallAsync(c => c.InvokeAsync<SendResult>("SendMessage", text, id, t)), deadline, log);
}

/// <summary>A signed-in agent with a console on one gateway.</summary>
public sealed class FloorAgent(LocalCluster cluster, string id, string token) : FloorClient(cluster)
{
    public string Id => id;

    /// <summary>Offers in the order they arrived.</summary>
    public ConcurrentQueue<ChatOffer> Offers { get; } = new();

    /// <summary>Events seen per channel, by sequence number.</summary>
    public ConcurrentDictionary<Guid, ConcurrentDictionary<long, ChannelEvent>> Seen { get; } = new();

    public static async Task<FloorAgent> SignInAsync(LocalCluster cluster, LocalCluster.Member gateway, string id)
    {
        var agent = new FloorAgent(cluster, id, await LocalCluster.TokenAsync(gateway, id));
        await agent.ConnectAsync(gateway);
        await agent.CallAsync(async c => { await c.InvokeAsync("SetStatus", "available"); return 0; });
        return agent;
    }

    public ConcurrentDictionary<long, ChannelEvent> In(Guid channelId) => Seen.GetOrAdd(channelId, _ => new());

    protected override HubConnection Build(LocalCluster.Member gateway)
    {
        var connection = LocalCluster.AgentConnection(gateway, token);
        connection.On<ChatOffer>("Offer", Offers.Enqueue);
        connection.On<Guid, ChannelEvent>("Message", (channel, e) => In(channel)[e.Seq] = e);
        return connection;
    }

    protected override async Task ResumeAsync(HubConnection connection)
    {
        // The hub re-subscribes this connection to the agent's chats on connect; fetch what came meanwhile.
        foreach (var (channel, seen) in Seen)
        {
            var after = seen.IsEmpty ? 0 : seen.Keys.Max();
            foreach (var e in await connection.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, after))
                seen[e.Seq] = e;
        }
    }

    public async Task<AcceptResult> AcceptAsync(Guid sessionId)
    {
        var accepted = await CallAsync(c => c.InvokeAsync<AcceptResult>("AcceptOffer", sessionId));
        var seen = In(accepted.ChannelId);
        foreach (var e in accepted.Events)
            seen[e.Seq] = e;
        return accepted;
    }

    public Task<(long Seq, TimeSpan Took)> SayAsync(Guid channelId, string text, string messageId, TimeSpan deadline, Action<string>? log = null) =>
        ChatParties.SendUntilAcknowledgedAsync(t => CallAsync(c => c.InvokeAsync<SendResult>("SendMessage", channelId, text, messageId, t)), deadline, log);

    /// <summary>Waits for an offer that matches (offers seen earlier count too).</summary>
    public async Task<ChatOffer> OfferAsync(Func<ChatOffer, bool> match, TimeSpan deadline)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < deadline)
        {
            if (Offers.FirstOrDefault(match) is { } offer)
                return offer;
            await Task.Delay(50);
        }
        throw new TimeoutException($"{Id} got no matching offer within {deadline}; offers: {string.Join(", ", Offers.Select(o => o.SessionId))}");
    }
}

/// <summary>One chat on the floor: a customer and the agent who took it.</summary>
public sealed record FloorChat(FloorCustomer Customer, FloorAgent Agent, Guid ChannelId)
{
    /// <summary>Acknowledged sends: sequence number, who sent it, and how many attempts it took.</summary>
    public ConcurrentQueue<(long Seq, bool FromCustomer, string Text, int Failures)> Sent { get; } = new();

    /// <summary>Customer and agent take turns until <paramref name="stop"/>; each send is repeated with the same message
    /// id until acknowledged (what the widget's and console's outboxes do), and its failed attempts are counted.</summary>
    public async Task TalkAsync(string phase, CancellationToken stop, TimeSpan deadline)
    {
        for (var i = 0; !stop.IsCancellationRequested; i++)
        {
            var fromCustomer = i % 2 == 0;
            var text = $"{phase} {(fromCustomer ? Customer.Name : Agent.Id)} {i}";
            var id = $"{phase}-{(fromCustomer ? "c" : "a")}-{i}";
            var failures = new List<string>();
            var (seq, _) = fromCustomer
                ? await Customer.SayAsync(text, id, deadline, failures.Add)
                : await Agent.SayAsync(ChannelId, text, id, deadline, failures.Add);
            foreach (var failure in failures)
                (fromCustomer ? Customer.Errors : Agent.Errors).Enqueue($"{phase}: {failure}");
            Sent.Enqueue((seq, fromCustomer, text, failures.Count));
            await Task.Delay(100, CancellationToken.None);
        }
    }

    /// <summary>
    /// Every acknowledged message reached the other side exactly once: the side holds it by number (pushed or fetched on
    /// resume; a gap the client has not noticed yet is fetched as the client would), and the transcript holds each
    /// message text once.
    /// </summary>
    public async Task AssertDeliveredExactlyOnceAsync()
    {
        var transcript = await Agent.CallAsync(c => c.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", ChannelId, 0L));
        Assert.Equal(transcript.Count, transcript.Select(e => e.Seq).Distinct().Count());
        foreach (var (seq, fromCustomer, text, _) in Sent)
        {
            Assert.Single(transcript, e => e.Text == text);
            Assert.Equal(text, transcript.Single(e => e.Seq == seq).Text);
            var seen = fromCustomer ? Agent.In(ChannelId) : Customer.Seen;
            if (seen.ContainsKey(seq))
                continue;
            var fetched = fromCustomer
                ? await Agent.CallAsync(c => c.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", ChannelId, seq - 1))
                : (await Customer.CallAsync(c => c.InvokeAsync<ResumeResult>("Resume", Customer.Start.ResumeToken, seq - 1))).Events;
            Assert.True(seen.Keys.Any(k => k > seq), $"message {seq} ({text}) was neither seen nor followed by anything that reveals the gap");
            Assert.Contains(seq, fetched.Select(e => e.Seq));
        }
    }
}
