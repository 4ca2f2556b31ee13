using Microsoft.Data.Sqlite;
using Orleans.Runtime;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Tests;

/// <summary>
/// Long queues and long chats are stored in pages: a change writes one bounded record, and everything comes back in
/// order when the grains are activated again from the SQLite file.
/// </summary>
[Collection(ClusterCollection.Name)]
public sealed class StoredStateTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;
    private readonly RecordingGateway _gateway = new();
    private readonly string _site = "p" + Guid.NewGuid().ToString("N")[..8];

    private IGatewayObserver GatewayRef() => _client.CreateObjectReference<IGatewayObserver>(_gateway);

    private Task DeactivateEverythingIdleAsync() =>
        _client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);

    /// <summary>An agent of this test's site accepts Dana, who asked from <paramref name="pageUrl"/>.</summary>
    private async Task<(string AgentId, Guid SessionId, AcceptResult Accepted)> AcceptedChatAsync(string agent, string name, string pageUrl)
    {
        var agentId = $"{_site}-{agent}";
        var grain = _client.GetGrain<IAgentGrain>(agentId);
        await grain.ConnectAsync("conn-" + agent, new AgentProfile(agentId, name, 2, [QueueKey.For(_site, "sales")]), GatewayRef());
        await grain.SetStatusAsync(AgentStatus.Available);
        var sessionId = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(sessionId).StartAsync(
            new ChatRequest(_site, "sales", "Dana", null, null, pageUrl, null, null, false, null), GatewayRef(), "conn-" + sessionId);
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == sessionId);
        return (agentId, sessionId, await grain.AcceptOfferAsync(sessionId));
    }

    [Fact]
    public async Task AQueueOfSixHundredKeepsItsServingOrderAcrossReactivationAndWritesSmallRecords()
    {
        const int customers = 600; // many pages
        var queue = _client.GetGrain<IQueueGrain>(QueueKey.For(_site, "sales"));
        var gateway = GatewayRef();
        for (var batch = 0; batch < customers; batch += 50)
        {
            await Task.WhenAll(Enumerable.Range(batch, 50).Select(i => _client.GetGrain<ICustomerGrain>(Guid.NewGuid()).StartAsync(
                // Every seventh is a verified VIP, served before the others: the order is not simply arrival order.
                new ChatRequest(_site, "sales", $"C{i}", null, null, "https://shop.example/", null, $"id-{i}", i % 7 == 0, null, i % 7 == 0 ? "vip" : null),
                gateway, $"conn-{i}")));
        }
        var before = (await queue.GetSnapshotAsync()).Waiting;
        Assert.Equal(customers, before.Count);

        await DeactivateEverythingIdleAsync();
        Assert.Equal(before, (await queue.GetSnapshotAsync()).Waiting);

        // One in the middle leaves; the rest keep their order, also after another reactivation.
        var leaving = before[300];
        await _client.GetGrain<ICustomerGrain>(leaving).EndAsync();
        await DeactivateEverythingIdleAsync();
        Assert.Equal(before.Where(id => id != leaving), (await queue.GetSnapshotAsync()).Waiting);

        // The queue's own record stays small; the waiting customers are in pages of at most WaitingPage.Size.
        var sizes = await RecordSizesAsync($"%{_site}/sales");
        Assert.True(sizes["queue"] < 4_096, $"the queue's record is {sizes["queue"]} bytes");
        var pages = sizes.Where(s => s.Key.StartsWith("queue-waiting-", StringComparison.Ordinal)).Select(s => s.Value).ToList();
        Assert.Equal((customers + Queue.WaitingPage.Size - 1) / Queue.WaitingPage.Size, pages.Count);
        Assert.True(pages.Max() < pages.Sum() / 2, $"largest page {pages.Max()} of {pages.Sum()} bytes");
    }

    [Fact]
    public async Task AChatOfTwoHundredMessagesComesBackWholeAfterReactivationAndStillRefusesARetriedMessage()
    {
        var (agentId, sessionId, accepted) = await AcceptedChatAsync("agent", "Alice", "https://shop.example/");
        var customer = _client.GetGrain<ICustomerGrain>(sessionId);
        for (var i = 0; i < 200; i++)
            await customer.SendMessageAsync($"message {i}", $"m{i}");

        await DeactivateEverythingIdleAsync();

        var channel = _client.GetGrain<IChannelGrain>(accepted.ChannelId);
        var events = await channel.GetEventsAsync(new MemberRef(Roles.Agent, agentId, "Alice"), 0);
        Assert.Equal(Enumerable.Range(1, events.Count).Select(n => (long)n), events.Select(e => e.Seq));
        Assert.Equal(Enumerable.Range(0, 200).Select(i => $"message {i}"), events.Where(e => e.Type == EventTypes.Message).Select(e => e.Text));
        // A retry of a message stored in the first page gets the number it got then, not a new event.
        var first = events.First(e => e.Text == "message 0").Seq;
        Assert.Equal(first, (await customer.SendMessageAsync("message 0", "m0")).Event.Seq);
        Assert.Equal(events.Count, (await channel.GetEventsAsync(new MemberRef(Roles.Agent, agentId, "Alice"), 0)).Count);
        Assert.Equal(events.Count + 1, (await customer.SendMessageAsync("after", "m-after")).Event.Seq);

        var sizes = await RecordSizesAsync($"%{accepted.ChannelId:N}%");
        var stored = events.Count + 1; // and "after"
        Assert.Equal((stored + Channel.ChannelEventPage.Size - 1) / Channel.ChannelEventPage.Size,
            sizes.Keys.Count(k => k.StartsWith("channel-events-", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task TheChannelsCurrentPageIsItsLastNavigationOfEveryoneAfterReactivation()
    {
        var (agentId, sessionId, accepted) = await AcceptedChatAsync("guide", "Gus", "https://shop.example/start");
        var channel = _client.GetGrain<IChannelGrain>(accepted.ChannelId);
        var me = new MemberRef(Roles.Agent, agentId, "Gus");
        await channel.NavigateAsync(me, "https://shop.example/toaster");
        await channel.NavigateCustomerAsync(me, sessionId, "https://shop.example/only-for-dana"); // one customer: not the channel's page

        await DeactivateEverythingIdleAsync();

        var code = await channel.CreateJoinCodeAsync(me, TimeSpan.FromMinutes(5));
        Assert.StartsWith("https://shop.example/toaster?sg-join=", code.Url);
    }

    [Fact]
    public async Task AClaimThatOutlivesAQueueReactivationStaysOutOfTheServingOrderAndItsCompletionForgetsTheCustomer()
    {
        var agentId = $"{_site}-claimer";
        var queueKey = QueueKey.For(_site, "sales");
        var queue = _client.GetGrain<IQueueGrain>(queueKey);
        await _client.GetGrain<IAgentGrain>(agentId).ConnectAsync("conn-a", new AgentProfile(agentId, "Alice", 1, [queueKey]), GatewayRef());
        await _client.GetGrain<IAgentGrain>(agentId).SetStatusAsync(AgentStatus.Available);
        var claimed = Guid.NewGuid();
        var waiting = Guid.NewGuid();
        await _client.GetGrain<ICustomerGrain>(claimed).StartAsync(
            new ChatRequest(_site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-c1");
        await _gateway.WaitForAsync(p => p.Kind == "offer" && p.SessionId == claimed);
        await _client.GetGrain<ICustomerGrain>(waiting).StartAsync(
            new ChatRequest(_site, "sales", "Eve", null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-c2");

        // The claim is the agent grain's first step of an accept; the queue keeps the customer stored until it completes.
        await queue.ClaimOfferAsync(claimed, agentId);
        Assert.Equal([waiting], (await queue.GetSnapshotAsync()).Waiting);
        await DeactivateEverythingIdleAsync();
        Assert.Equal([waiting], (await queue.GetSnapshotAsync()).Waiting);

        await queue.CompleteClaimAsync(claimed);
        await DeactivateEverythingIdleAsync();
        Assert.Equal([waiting], (await queue.GetSnapshotAsync()).Waiting);
    }

    [Fact]
    public async Task ACompletionAfterTheQueueLostItsClaimTakesTheCustomerOutOfTheQueue()
    {
        var queueKey = QueueKey.For(_site, "sales");
        var queue = _client.GetGrain<IQueueGrain>(queueKey);
        var first = Guid.NewGuid();
        var second = Guid.NewGuid();
        foreach (var (session, name) in new[] { (first, "Dana"), (second, "Eve") })
            await _client.GetGrain<ICustomerGrain>(session).StartAsync(
                new ChatRequest(_site, "sales", name, null, null, "https://shop.example/", null, null, false, null), GatewayRef(), "conn-" + name);
        Assert.Equal([first, second], (await queue.GetSnapshotAsync()).Waiting);

        // As after a restart that lost the claim between an agent's claim and its completion: the chat started, so the
        // customer must not be offered again.
        await queue.CompleteClaimAsync(first);
        Assert.Equal([second], (await queue.GetSnapshotAsync()).Waiting);
        await DeactivateEverythingIdleAsync();
        Assert.Equal([second], (await queue.GetSnapshotAsync()).Waiting);
    }

    /// <summary>Size of each stored record whose grain id matches <paramref name="grainIdPattern"/>, by state name.</summary>
    private async Task<Dictionary<string, long>> RecordSizesAsync(string grainIdPattern)
    {
        await using var connection = new SqliteConnection($"Data Source={fixture.StateFile}");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT id, length(data) FROM grain_state WHERE id LIKE $pattern";
        command.Parameters.AddWithValue("$pattern", "%/" + grainIdPattern.TrimStart('%'));
        await using var reader = await command.ExecuteReaderAsync();
        var sizes = new Dictionary<string, long>();
        while (await reader.ReadAsync())
            sizes[reader.GetString(0).Split('/')[0]] = reader.GetInt64(1);
        return sizes;
    }
}
