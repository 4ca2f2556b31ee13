using System.Collections.Concurrent;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Bench;

/// <summary>
/// Broadcast against SupportGrid, through the product's own protocol (docs/protocol.md, docs/cobrowse.md): one bench agent
/// signs in and goes available, the first customer's <c>StartChat</c> is offered to it and accepted, the agent makes a join
/// code (<c>CreateJoinCode</c>) and every further customer calls <c>JoinChat</c> with it. A navigation is the agent's
/// <c>NavigateCustomers(channelId, url)</c>; each customer records the <c>Navigate</c> push, followed or not.
/// <see cref="PageUrl"/> is on the gateway's own origin, which the bench site (<c>demo</c>, <c>AllowGatewayOrigin</c>)
/// lets the widget follow, so the pushes say <c>follow: true</c>; <see cref="NotFollowed"/> counts those that did not.
/// </summary>
public sealed class SupportGridBroadcastDriver : IBroadcastDriver
{
    /// <summary>The most customers one SupportGrid chat holds (the channel's member limit, docs/cobrowse.md).</summary>
    public const int MaxCustomers = 5000;

    private readonly Uri _target;
    private readonly BenchAgents _agents;
    private readonly string _site;
    private readonly string _queue;
    private readonly HttpClient _http;
    private readonly List<HubConnection> _customers = [];
    private readonly ConcurrentDictionary<Guid, TaskCompletionSource> _offers = new();
    private HubConnection? _agent;
    private Guid? _channelId;
    private string? _code;
    private Action<string>? _firstOnNavigate;
    private long _notFollowed;

    /// <param name="target">The deployment.</param>
    /// <param name="agents">The bench agents; the first one (<c>{prefix}0</c>) is signed in. Its queue (<c>site/queue</c>) is where the chat starts.</param>
    public SupportGridBroadcastDriver(Uri target, BenchAgents agents)
    {
        var slash = agents.Queue.IndexOf('/');
        if (slash <= 0 || slash == agents.Queue.Length - 1)
            throw new ArgumentException($"The bench agents' queue must be site/queue, not '{agents.Queue}'.", nameof(agents));
        _target = target;
        _agents = agents;
        _site = agents.Queue[..slash];
        _queue = agents.Queue[(slash + 1)..];
        _http = new HttpClient { BaseAddress = target };
        PageUrl = new Uri(target, "/demo/").AbsoluteUri;
    }

    /// <summary>How long the first customer's chat may take to be offered to the signed-in agent.</summary>
    public TimeSpan OfferTimeout { get; init; } = TimeSpan.FromSeconds(30);

    public string PageUrl { get; }

    /// <summary><c>Navigate</c> pushes that said <c>follow: false</c> (the target outside the site's origins); 0 when the bench runs as meant.</summary>
    public long NotFollowed => Interlocked.Read(ref _notFollowed);

    /// <summary>Signs the agent in and makes the chat: the first customer (customer 0) starts it, the agent accepts the
    /// offer and makes the join code the other customers use.</summary>
    public async Task ConnectAgentAsync(CancellationToken cancellationToken)
    {
        var token = await SignalRChatWire.SignInAsync(_http, _agents.Id(0), _agents.Password, cancellationToken);
        _agent = SignalRChatWire.Connect(_target, "/hubs/agent", token);
        _agent.On<ChatOffer>("Offer", offer => Offer(offer.SessionId).TrySetResult());
        await _agent.StartAsync(cancellationToken);
        await _agent.InvokeAsync("SetStatus", "available", cancellationToken);

        var first = Customer(url => Volatile.Read(ref _firstOnNavigate)?.Invoke(url));
        await first.StartAsync(cancellationToken);
        var started = await first.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput(_site, _queue, "Bench 0", null, null, PageUrl, "Bench"), cancellationToken);
        try
        {
            await Offer(started.SessionId).Task.WaitAsync(OfferTimeout, cancellationToken);
        }
        catch (TimeoutException)
        {
            throw new InvalidOperationException(
                $"The first customer's chat was not offered to {_agents.Id(0)} within {OfferTimeout.TotalSeconds} s (is the agent configured for {_agents.Queue}?).");
        }
        var accepted = await _agent.InvokeAsync<AcceptResult>("AcceptOffer", started.SessionId, cancellationToken);
        _channelId = accepted.ChannelId;
        _code = (await _agent.InvokeAsync<JoinCodeResult>("CreateJoinCode", accepted.ChannelId, cancellationToken)).Code;
    }

    /// <summary>Customer 0 is the one who started the chat: this only gives it <paramref name="onNavigate"/>. Every other
    /// customer connects and joins with the code.</summary>
    public async Task ConnectCustomerAsync(int index, Action<string> onNavigate, CancellationToken cancellationToken)
    {
        if (_code is null)
            throw new InvalidOperationException("Connect the agent first: it makes the chat and the join code.");
        if (index >= MaxCustomers)
            throw new ArgumentOutOfRangeException(nameof(index), $"A SupportGrid chat holds at most {MaxCustomers} customers.");
        if (index == 0)
        {
            Volatile.Write(ref _firstOnNavigate, onNavigate);
            return;
        }
        var hub = Customer(onNavigate);
        await hub.StartAsync(cancellationToken);
        var joined = await hub.InvokeAsync<JoinChatResult>("JoinChat",
            new JoinChatInput(_site, _code, $"Bench {index}", PageUrl, "Bench"), cancellationToken);
        if (joined.ChannelId != _channelId)
            throw new InvalidOperationException($"JoinChat put customer {index} into channel {joined.ChannelId}, not the agent's {_channelId}.");
    }

    public Task NavigateAsync(string url, CancellationToken cancellationToken) =>
        _agent!.InvokeAsync<SendResult>("NavigateCustomers", _channelId!.Value, url, cancellationToken);

    /// <summary>Ends the chat (for every customer), signs the agent off, closes every connection.</summary>
    public async ValueTask DisposeAsync()
    {
        if (_agent is { State: HubConnectionState.Connected })
        {
            if (_channelId is { } channelId)
            {
                try
                {
                    await _agent.InvokeAsync("EndChat", channelId);
                }
                catch (HubException)
                {
                    // The chat had already ended.
                }
            }
            await _agent.InvokeAsync("SetStatus", "offline");
        }
        List<HubConnection> customers;
        lock (_customers)
            customers = [.. _customers];
        foreach (var hub in customers)
            await hub.DisposeAsync();
        if (_agent is not null)
            await _agent.DisposeAsync();
        _http.Dispose();
    }

    private HubConnection Customer(Action<string> onNavigate)
    {
        var hub = SignalRChatWire.Connect(_target, "/hubs/customer", null);
        hub.On<NavigateEvent>("Navigate", e =>
        {
            if (!e.Follow)
                Interlocked.Increment(ref _notFollowed);
            onNavigate(e.Url);
        });
        lock (_customers)
            _customers.Add(hub);
        return hub;
    }

    private TaskCompletionSource Offer(Guid sessionId) =>
        _offers.GetOrAdd(sessionId, _ => new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));
}
