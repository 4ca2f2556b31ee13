using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Orleans.Streams;
using SupportGrid.Gateway.Hosting;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Sites;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Fanout;

/// <summary>
/// Relays channel streams to this gateway's connections. The gateway subscribes once per channel that has at least one
/// member connected here (never once per connection), and writes each event to the channel's local members through one
/// SignalR group per role (<see cref="HubGroups.ChannelCustomers"/>, <see cref="HubGroups.ChannelAgents"/>): SignalR
/// serializes a group send once and writes the same bytes to every member, so a navigation to a thousand customers costs
/// one serialization, not a thousand. The group mirrors the subscription's listeners (joined and left under the same lock).
/// The last local member leaving unsubscribes.
/// </summary>
public sealed partial class ChannelFanout(
    IClusterClient cluster,
    IHubContext<CustomerHub, ICustomerClient> customers,
    IHubContext<AgentHub, IAgentClient> agents,
    SiteDirectory sites,
    ILogger<ChannelFanout> logger)
{
    /// <summary>A local member of a channel. <paramref name="GatewayOrigin"/> and <paramref name="SessionId"/> are set for customers
    /// (a navigation for one customer goes only to that session's connections).</summary>
    public sealed record Listener(bool IsAgent, string? GatewayOrigin, Guid? SessionId = null)
    {
        public static Listener Customer(Guid sessionId, string? gatewayOrigin) => new(false, gatewayOrigin, sessionId);
    }

    private sealed class Subscription(Guid channelId)
    {
        public readonly Dictionary<string, Listener> Listeners = [];
        public readonly string CustomerGroup = HubGroups.ChannelCustomers(channelId);
        public readonly string AgentGroup = HubGroups.ChannelAgents(channelId);
        public Task<StreamSubscriptionHandle<ChannelStreamItem>> Handle = null!;

        // Set when this gateway's own probe comes back through the subscription (see SubscribeAsync).
        public readonly Guid Probe = Guid.NewGuid();
        public readonly TaskCompletionSource Attached = new(TaskCreationOptions.RunContinuationsAsynchronously);

        // Set when the last local member left: a probe still under way stops (nobody is left to catch up).
        public volatile bool Closed;

        // Channel events go out to the local members one at a time, in sequence order, each once: from the stream, or
        // straight from the hub call that posted it (RelaySentAsync). The highest sequence number sent so far; every
        // event up to it has been sent by one of the two.
        public readonly SemaphoreSlim Sending = new(1, 1);
        public long LastSentSeq;

        // The first sequence number sent to the local members (0: none yet); from it on, every event reaches them.
        public long FirstSentSeq;

        // Set with Attached: the probe came back after the events up to this sequence number (long.MaxValue: it never did).
        public long ProbeAfterSeq = long.MaxValue;

        // Copy-on-write views read by the stream callback without the lock.
        public volatile KeyValuePair<string, Listener>[] CustomerListeners = [];
        public volatile int AgentCount;

        public void Refresh()
        {
            CustomerListeners = Listeners.Where(l => !l.Value.IsAgent).ToArray();
            AgentCount = Listeners.Count - CustomerListeners.Length;
        }
    }

    private readonly Lock _lock = new();
    private readonly Dictionary<Guid, Subscription> _channels = [];
    private readonly Dictionary<string, HashSet<Guid>> _byConnection = [];

    /// <summary>The chat this connection follows as the customer of <paramref name="sessionId"/>, if it follows one.</summary>
    public Guid? CustomerChannel(string connectionId, Guid sessionId)
    {
        lock (_lock)
        {
            if (!_byConnection.TryGetValue(connectionId, out var joined))
                return null;
            foreach (var channelId in joined)
            {
                if (_channels.TryGetValue(channelId, out var subscription)
                    && subscription.Listeners.TryGetValue(connectionId, out var listener) && listener.SessionId == sessionId)
                    return channelId;
            }
            return null;
        }
    }

    /// <summary>Number of channels this gateway is subscribed to.</summary>
    public int SubscribedChannels
    {
        get { lock (_lock) return _channels.Count; }
    }

    /// <summary>
    /// Adds a connection to a channel's local members, subscribing to the channel's stream if it is the first. Returns
    /// null when the subscription already receives the stream; otherwise a task that completes once it does (see
    /// <see cref="CatchUp"/>). A connection that joins to follow a chat goes through <see cref="FollowAsync"/>, which reads
    /// after the join and catches up; joining alone is for a caller that reads later (a console's GetState does).
    /// </summary>
    public async Task<Task?> JoinAsync(Guid channelId, string connectionId, Listener listener)
    {
        Task handle, grouped;
        Task? attached;
        lock (_lock)
        {
            if (!_channels.TryGetValue(channelId, out var subscription))
            {
                _channels[channelId] = subscription = new Subscription(channelId);
                subscription.Handle = SubscribeAsync(channelId, subscription);
            }
            attached = subscription.Attached.Task.IsCompleted ? null : subscription.Attached.Task;
            subscription.Listeners[connectionId] = listener;
            subscription.Refresh();
            if (!_byConnection.TryGetValue(connectionId, out var joined))
                _byConnection[connectionId] = joined = [];
            joined.Add(channelId);
            handle = subscription.Handle;
            // In-process group changes complete at once, so under the lock they keep the listeners' order.
            grouped = listener.IsAgent
                ? agents.Groups.AddToGroupAsync(connectionId, subscription.AgentGroup)
                : customers.Groups.AddToGroupAsync(connectionId, subscription.CustomerGroup);
        }
        await grouped;
        await handle;
        return attached;
    }

    /// <summary>
    /// Joins connections to a channel, then reads its events after <paramref name="afterSeq"/> with <paramref name="readAfter"/>
    /// and returns them: nothing published in between falls through, since each event after the read reaches the
    /// connections from the subscription, or from a catch-up read once a new subscription receives (<see cref="CatchUp"/>).
    /// Every way a connection starts following a chat (accept, resume, "agent joined", a console's state) goes through here.
    /// <paramref name="joined"/>, when given, runs between the joins and the read (a push that lets the client start
    /// talking, once what it says reaches it); <paramref name="deliver"/> pushes what was read before any catch-up can,
    /// so a client gets it in order.
    /// </summary>
    public async Task<IReadOnlyList<ChannelEvent>> FollowAsync(Guid channelId, IEnumerable<(string ConnectionId, Listener Listener)> joiners,
        long afterSeq, Func<long, Task<IReadOnlyList<ChannelEvent>>> readAfter, Func<Task>? joined = null,
        Func<IReadOnlyList<ChannelEvent>, Task>? deliver = null)
    {
        var joins = new List<(string ConnectionId, bool IsAgent, Task? Attached)>();
        foreach (var (connectionId, listener) in joiners)
            joins.Add((connectionId, listener.IsAgent, await JoinAsync(channelId, connectionId, listener)));
        if (joined is not null)
            await joined();
        var read = await readAfter(afterSeq);
        if (deliver is not null)
            await deliver(read);
        var last = read.Count > 0 ? read[^1].Seq : afterSeq;
        foreach (var (connectionId, isAgent, attached) in joins)
            CatchUp(attached, channelId, connectionId, isAgent, last, readAfter);
        return read;
    }

    /// <summary>
    /// For a connection that joined a channel (<paramref name="attached"/> from <see cref="JoinAsync"/>) and has read its
    /// events up to <paramref name="afterSeq"/>: when the subscription was not yet receiving at the join, waits (in the
    /// background) until it does, reads the events after <paramref name="afterSeq"/> again and pushes the connection
    /// those that neither the stream nor a hub call sent it (<see cref="Missed"/>): each event once. The join itself does
    /// not wait: a new subscription receives only after the queue's pulling agent has taken it on, one probe round trip or
    /// more (WaitUntilAttachedAsync), which on a busy silo is tens to hundreds of milliseconds that every accepted chat
    /// used to wait for.
    /// </summary>
    private void CatchUp(Task? attached, Guid channelId, string connectionId, bool isAgent, long afterSeq,
        Func<long, Task<IReadOnlyList<ChannelEvent>>> readAfter)
    {
        if (attached is not null)
            _ = CatchUpAsync(attached, channelId, connectionId, isAgent, afterSeq, readAfter);
    }

    private async Task CatchUpAsync(Task attached, Guid channelId, string connectionId, bool isAgent, long afterSeq,
        Func<long, Task<IReadOnlyList<ChannelEvent>>> readAfter)
    {
        try
        {
            await attached;
            Subscription? subscription;
            lock (_lock)
                _channels.TryGetValue(channelId, out subscription);
            if (subscription is null)
                return; // every local member left
            if (subscription.ProbeAfterSeq <= afterSeq)
                return; // the probe followed everything this member read: the stream brings every later event (Missed is empty)
            var missed = Missed(await readAfter(afterSeq), subscription.ProbeAfterSeq, Volatile.Read(ref subscription.FirstSentSeq));
            if (missed.Count == 0)
                return;
            LogCaughtUp(logger, channelId, missed.Count);
            foreach (var evt in missed)
            {
                if (isAgent)
                    await agents.Clients.Client(connectionId).Message(channelId, evt);
                else
                    await customers.Clients.Client(connectionId).Message(evt);
            }
        }
        catch (Exception e)
        {
            // The client still fills the gap by sequence number on the channel's next event.
            LogCatchUpFailed(logger, channelId, e);
        }
    }

    /// <summary>
    /// Of the events a joined member read again once the subscription received (<paramref name="read"/>, all after what it
    /// had), those nobody sent it: published before the probe (up to <paramref name="probeAfterSeq"/>; the stream brings
    /// every later one, in order, after the probe) and before the first event sent to the local members
    /// (<paramref name="firstSentSeq"/>, 0 if none: from that one on the members have every event). So each event
    /// reaches the member once.
    /// </summary>
    public static IReadOnlyList<ChannelEvent> Missed(IReadOnlyList<ChannelEvent> read, long probeAfterSeq, long firstSentSeq) =>
        read.Where(e => e.Seq <= probeAfterSeq && (firstSentSeq == 0 || e.Seq < firstSentSeq)).ToList();

    /// <summary>Removes a connection from one channel (an agent who transferred it).</summary>
    public Task LeaveAsync(Guid channelId, string connectionId) => LeaveAsync(connectionId, [channelId], forget: false);

    /// <summary>Removes a closed connection from every channel; unsubscribes channels with no local member left.</summary>
    public Task LeaveAllAsync(string connectionId) => LeaveAsync(connectionId, null, forget: true);

    private async Task LeaveAsync(string connectionId, IReadOnlyList<Guid>? only, bool forget)
    {
        List<Task<StreamSubscriptionHandle<ChannelStreamItem>>> emptied = [];
        List<Task> ungrouped = [];
        lock (_lock)
        {
            if (!_byConnection.TryGetValue(connectionId, out var joined))
                return;
            var leaving = only?.Where(joined.Contains).ToList() ?? joined.ToList();
            if (forget)
                _byConnection.Remove(connectionId);
            else
                joined.ExceptWith(leaving);
            foreach (var channelId in leaving)
            {
                if (!_channels.TryGetValue(channelId, out var subscription) || !subscription.Listeners.Remove(connectionId, out var listener))
                    continue;
                ungrouped.Add(listener.IsAgent
                    ? agents.Groups.RemoveFromGroupAsync(connectionId, subscription.AgentGroup)
                    : customers.Groups.RemoveFromGroupAsync(connectionId, subscription.CustomerGroup));
                subscription.Refresh();
                if (subscription.Listeners.Count == 0)
                {
                    subscription.Closed = true;
                    _channels.Remove(channelId);
                    emptied.Add(subscription.Handle);
                }
            }
        }
        await Task.WhenAll(ungrouped);
        foreach (var handle in emptied)
        {
            try
            {
                await (await handle).UnsubscribeAsync();
            }
            catch (Exception e)
            {
                LogUnsubscribeFailed(logger, e);
            }
        }
    }

    private async Task<StreamSubscriptionHandle<ChannelStreamItem>> SubscribeAsync(Guid channelId, Subscription subscription)
    {
        try
        {
            var stream = cluster.GetStreamProvider(StreamNames.Provider)
                .GetStream<ChannelStreamItem>(StreamId.Create(StreamNames.ChannelNamespace, channelId));
            var handle = await stream.SubscribeAsync((item, _) => RelayAsync(item, subscription));
            _ = WaitUntilAttachedAsync(channelId, subscription);
            return handle;
        }
        catch
        {
            lock (_lock)
            {
                if (_channels.TryGetValue(channelId, out var current) && current == subscription)
                    _channels.Remove(channelId);
            }
            throw;
        }
    }

    /// <summary>
    /// A subscription is registered when SubscribeAsync returns, but the queue's pulling agent learns of it a moment later
    /// (Orleans hands the new subscriber to the agent without waiting, and a subscriber with no token starts at the newest
    /// event the agent has): an event published in between is never delivered to it. Every caller subscribes and then reads
    /// what it may have missed from the channel grain, which is only complete once the subscription receives. So the
    /// channel grain publishes a probe (in stream order right after the events so far) until one comes back (a probe that
    /// fell in the gap is lost, hence the repeats); then the callers that joined meanwhile read again and are sent what
    /// nobody sent them (<see cref="CatchUp"/>, <see cref="Missed"/>). A probe costs one grain call and one stream event per
    /// new subscription; other gateways' subscriptions ignore it. Runs in the background: nobody's join waits for it.
    /// </summary>
    private async Task WaitUntilAttachedAsync(Guid channelId, Subscription subscription)
    {
        var wait = TimeSpan.FromMilliseconds(50);
        var deadline = DateTime.UtcNow + AttachTimeout;
        try
        {
            while (true)
            {
                await cluster.GetGrain<IChannelGrain>(channelId).ProbeAsync(subscription.Probe);
                if (await Task.WhenAny(subscription.Attached.Task, Task.Delay(wait)) == subscription.Attached.Task || subscription.Closed)
                    return;
                if (DateTime.UtcNow >= deadline)
                {
                    // Events still arrive once the agent has the subscriber; clients fill a gap by sequence number on the next one.
                    LogNotAttached(logger, channelId, AttachTimeout);
                    return;
                }
                wait = TimeSpan.FromTicks(Math.Min(wait.Ticks * 2, TimeSpan.FromSeconds(1).Ticks));
            }
        }
        catch (Exception e)
        {
            LogProbeFailed(logger, channelId, e);
        }
        finally
        {
            // Waiting callers catch up now either way (what they read again is complete up to this moment).
            subscription.Attached.TrySetResult();
        }
    }

    private static readonly TimeSpan AttachTimeout = TimeSpan.FromSeconds(10);

    private async Task RelayAsync(ChannelStreamItem item, Subscription subscription)
    {
        if (item.Probe is { } probe)
        {
            if (probe == subscription.Probe && !subscription.Attached.Task.IsCompleted)
            {
                subscription.ProbeAfterSeq = item.ProbeAfterSeq;
                subscription.Attached.TrySetResult();
            }
            return;
        }
        var toCustomers = subscription.CustomerListeners.Length > 0 ? customers.Clients.Group(subscription.CustomerGroup) : null;
        var toAgents = subscription.AgentCount > 0 ? agents.Clients.Group(subscription.AgentGroup) : null;
        try
        {
            if (item.Event is { } evt)
            {
                await SendEventAsync(item.Site, item.ChannelId, evt, subscription, direct: false);
            }
            else if (item.Activity is { } activity)
            {
                if (toAgents is not null)
                    await toAgents.CustomerActivity(item.ChannelId, activity);
            }
            else if (item.Guide is { } guide)
            {
                if (guide.To is { } only)
                    await customers.Clients.EachAsync(ConnectionsOf(subscription, only), c => c.Guide(guide));
                else if (toCustomers is not null)
                    await toCustomers.Guide(guide);
            }
            else if (item.PageView is { } view)
            {
                if (toAgents is not null)
                    await toAgents.CustomerPageView(item.ChannelId, view);
            }
            else if (item.ViewRequest is { } request)
            {
                await customers.Clients.EachAsync(ConnectionsOf(subscription, request.SessionId), c => c.PageViewRequested(request.On));
            }
            else if (item.Presence is { } presence)
            {
                if (toAgents is not null)
                    await toAgents.CustomerPage(item.ChannelId, presence);
            }
            else if (item.TypingFrom is { } from)
            {
                if (from.Role == Roles.Customer && toAgents is not null)
                    await toAgents.Typing(item.ChannelId, from, item.IsTyping);
                else if (from.Role == Roles.Agent && toCustomers is not null)
                    await toCustomers.Typing(from, item.IsTyping);
            }
        }
        catch (Exception e)
        {
            // A failed relay must not kill the subscription; clients recover the event by sequence number.
            LogRelayFailed(logger, item.ChannelId, e);
        }
    }

    /// <summary>
    /// Sends a chat message that a hub call on this gateway has just posted (<paramref name="evt"/> as the channel grain
    /// stored it) to the channel's local members at once, instead of when it comes back through the stream: one queue
    /// grain, pulling agent and delivery hop less for the members here. Only when the subscription receives and every
    /// earlier event has been sent here (else the stream keeps the order); the stream's copy is then skipped. Other
    /// gateways' members get it from the stream as before. The sending connection (<paramref name="sender"/>) is left
    /// out: it has the event in its call's answer (a push as well would cost every message a second send, and the
    /// sender's client a second read); its other tabs get it like everyone else.
    /// </summary>
    public async Task RelaySentAsync(Guid channelId, ChannelEvent evt, string sender)
    {
        Subscription? subscription;
        lock (_lock)
            _channels.TryGetValue(channelId, out subscription);
        // Only chat messages: a navigation goes out as a command that the stream's copy carries (with the site's rules).
        if (evt.Type != EventTypes.Message || subscription is null || !subscription.Attached.Task.IsCompleted
            || Volatile.Read(ref subscription.LastSentSeq) != evt.Seq - 1)
            return;
        try
        {
            await SendEventAsync(null, channelId, evt, subscription, direct: true, sender);
        }
        catch (Exception e)
        {
            LogRelayFailed(logger, channelId, e); // the stream's copy goes out instead
        }
    }

    /// <summary>Writes one channel event to the local members, unless it was sent already (see <see cref="Subscription.LastSentSeq"/>).</summary>
    private async Task SendEventAsync(string? site, Guid channelId, ChannelEvent evt, Subscription subscription, bool direct, string? except = null)
    {
        var (arrived, received) = (DateTimeOffset.UtcNow, Stopwatch.GetTimestamp());
        await subscription.Sending.WaitAsync();
        try
        {
            if (direct ? evt.Seq != subscription.LastSentSeq + 1 : evt.Seq <= subscription.LastSentSeq)
                return;
            var toCustomers = subscription.CustomerListeners.Length == 0 ? null
                : except is null ? customers.Clients.Group(subscription.CustomerGroup) : customers.Clients.GroupExcept(subscription.CustomerGroup, except);
            var toAgents = subscription.AgentCount == 0 ? null
                : except is null ? agents.Clients.Group(subscription.AgentGroup) : agents.Clients.GroupExcept(subscription.AgentGroup, except);
            // The command first: it is what moves the page (the widget renders the event whenever it comes, and
            // after a followed reload it reads it back with Resume), so a large channel's pages move one send earlier.
            // A navigation of every customer carries its event in the command: then no Message push follows.
            var carried = evt.Type == EventTypes.Navigate && evt.Url is not null && site is not null
                && await RelayNavigationAsync(site, evt, subscription);
            if (toCustomers is not null && !carried)
                await toCustomers.Message(evt);
            if (toAgents is not null)
                await toAgents.Message(channelId, evt);
            if (evt.Type == EventTypes.Ended)
            {
                var reason = evt.Text ?? "The chat ended.";
                if (toCustomers is not null)
                    await toCustomers.ChatEnded(reason, false);
                if (toAgents is not null)
                    await toAgents.ChatEnded(channelId, reason);
            }
            if (subscription.FirstSentSeq == 0)
                Volatile.Write(ref subscription.FirstSentSeq, evt.Seq);
            Volatile.Write(ref subscription.LastSentSeq, evt.Seq);
            GatewayTelemetry.EventRelayed(evt.At, arrived, received, direct);
        }
        finally
        {
            subscription.Sending.Release();
        }
    }

    private static string[] ConnectionsOf(Subscription subscription, Guid sessionId) =>
        subscription.CustomerListeners.Where(l => l.Value.SessionId == sessionId).Select(l => l.Key).ToArray();

    /// <summary>
    /// Sends the navigation command: followed where the target is on an origin the customer's page may follow, else as a
    /// suggested link. When every local customer of a broadcast follows (the common case), one group send serializes once.
    /// A navigation of every customer carries the event in the command (true returned: every customer here has it).
    /// </summary>
    private async Task<bool> RelayNavigationAsync(string site, ChannelEvent evt, Subscription subscription)
    {
        var url = new Uri(evt.Url!);
        var follow = new List<string>();
        var suggest = new List<string>();
        var only = evt.To is { } to && Guid.TryParse(to, out var sessionId) ? sessionId : (Guid?)null;
        var listeners = subscription.CustomerListeners;
        foreach (var (connectionId, listener) in listeners)
        {
            if (only is null || listener.SessionId == only)
                (sites.IsFollowable(site, url, listener.GatewayOrigin) ? follow : suggest).Add(connectionId);
        }
        var followed = new NavigateCommand(evt.Url!, evt.Seq, true, only is null ? evt : null);
        var suggested = followed with { Follow = false };
        if (only is null && suggest.Count == 0 && follow.Count == listeners.Length && follow.Count > 1)
        {
            await customers.Clients.Group(subscription.CustomerGroup).Navigate(followed);
            return true;
        }
        await customers.Clients.EachAsync(follow, c => c.Navigate(followed));
        await customers.Clients.EachAsync(suggest, c => c.Navigate(suggested));
        return only is null;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Relaying an event of channel {ChannelId} failed")]
    private static partial void LogRelayFailed(ILogger logger, Guid channelId, Exception exception);

    [LoggerMessage(Level = LogLevel.Debug, Message = "A new member of channel {ChannelId} caught up on {Count} events published before the subscription received")]
    private static partial void LogCaughtUp(ILogger logger, Guid channelId, int count);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Catching a new member of channel {ChannelId} up failed")]
    private static partial void LogCatchUpFailed(ILogger logger, Guid channelId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Probing the subscription to channel {ChannelId} failed; events published meanwhile may reach clients only when they fill the gap")]
    private static partial void LogProbeFailed(ILogger logger, Guid channelId, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The subscription to channel {ChannelId} did not receive its probe within {Timeout}; events published meanwhile may reach clients only when they fill the gap")]
    private static partial void LogNotAttached(ILogger logger, Guid channelId, TimeSpan timeout);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Unsubscribing from a channel stream failed")]
    private static partial void LogUnsubscribeFailed(ILogger logger, Exception exception);
}
