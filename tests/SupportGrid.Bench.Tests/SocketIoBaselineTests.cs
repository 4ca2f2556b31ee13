namespace SupportGrid.Bench.Tests;

/// <summary>The broadcast scenario at tiny size against the socket.io baseline, driven with SocketIOClient.</summary>
public sealed class SocketIoBaselineTests(SocketIoTargetFixture socketIo) : IClassFixture<SocketIoTargetFixture>
{
    [Fact]
    public async Task BroadcastReachesEveryCustomerInTheRoomOncePerNavigation()
    {
        var options = new BroadcastOptions { Customers = 4, Broadcasts = 5, WarmupBroadcasts = 1, Interval = TimeSpan.Zero };

        var result = await BroadcastScenario.RunAsync(Target.SocketIo, options, new SocketIoBroadcastDriver(socketIo.BaseAddress));

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((24L, 24L, 0), (result.Expected, result.Delivered, result.Incomplete));
        Assert.Equal((5L, 20L), (result.Last.Count, result.Each.Count));
    }
}
