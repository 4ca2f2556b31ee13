namespace SupportGrid.Bench.Tests;

/// <summary>The scenarios at tiny size against the socket.io baseline, driven with the bench's socket.io client
/// (<c>SocketIoConnection</c>). Each test has a time limit of its own, so a lost packet fails the test instead of hanging
/// the run.</summary>
[Collection(SocketIoTargetFixture.Collection)]
public sealed class SocketIoBaselineTests(SocketIoTargetFixture socketIo)
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(1);

    [Fact]
    public async Task BroadcastReachesEveryCustomerInTheRoomOncePerNavigation()
    {
        var options = new BroadcastOptions { Customers = 4, Broadcasts = 5, WarmupBroadcasts = 1, Interval = TimeSpan.Zero };

        var result = await BroadcastScenario.RunAsync(Target.SocketIo, options, new SocketIoBroadcastDriver(socketIo.BaseAddress)).WaitAsync(Limit);

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((24L, 24L, 0), (result.Expected, result.Delivered, result.Incomplete));
        Assert.Equal((5L, 20L), (result.Last.Count, result.Each.Count));
    }

    [Fact]
    public async Task FiftyCustomersConnectingAtOnceAllJoinTheRoomAndGetEveryBroadcast()
    {
        // SocketIOClient 3.0.6, which the bench used before, lost connections from about ten opening at once.
        var options = new BroadcastOptions { Customers = 50, SetupConcurrency = 50, Broadcasts = 3, WarmupBroadcasts = 1, Interval = TimeSpan.Zero };

        var result = await BroadcastScenario.RunAsync(Target.SocketIo, options, new SocketIoBroadcastDriver(socketIo.BaseAddress)).WaitAsync(Limit);

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((200L, 200L, 0), (result.Expected, result.Delivered, result.Incomplete));
    }

    [Fact]
    public async Task ChatScenarioDeliversEveryMessageExactlyOnceThroughSocketIo()
    {
        var result = await ChatScenario.RunAsync(new ChatOptions
        {
            Target = socketIo.BaseAddress,
            Protocol = ChatProtocol.SocketIo,
            Chats = 4,
            Rate = 200,
            Messages = 20,
            WarmupMessages = 4,
            Agents = BenchAgents.For(4, capacity: 3),
            SetupTimeout = TimeSpan.FromSeconds(30),
        }).WaitAsync(Limit);

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((24, 24, 2), (result.Sent, result.Delivered, result.Agents));
        Assert.Equal((20L, 20L), (result.Latency.Count, result.Ack.Count));
    }

    [Fact]
    public async Task RouteConnectsEveryArrivingCustomerThroughSocketIo()
    {
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = socketIo.BaseAddress,
            Protocol = ChatProtocol.SocketIo,
            Rate = 40,
            Customers = 8,
            Agents = BenchAgents.For(4, capacity: 3),
        }).WaitAsync(Limit);

        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((8, 8, 8L), (result.Connected, result.Offered, result.ToConnected.Count));
    }
}
