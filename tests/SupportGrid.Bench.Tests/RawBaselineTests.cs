namespace SupportGrid.Bench.Tests;

/// <summary>The scenarios at tiny size against the raw SignalR baseline, driven by the same library calls as SupportGrid.</summary>
public sealed class RawBaselineTests(RawTargetFixture raw) : IClassFixture<RawTargetFixture>
{
    [Fact]
    public async Task ChatScenarioDeliversEveryMessageExactlyOnceThroughTheRawServer()
    {
        var result = await ChatScenario.RunAsync(new ChatOptions
        {
            Target = raw.BaseAddress,
            Chats = 4,
            Rate = 200,
            Messages = 20,
            WarmupMessages = 4,
            // The raw server signs in anyone and offers chats round robin: capacity only decides how many agents connect.
            Agents = BenchAgents.For(4, capacity: 3),
            SetupTimeout = TimeSpan.FromSeconds(30),
        });

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((24, 24, 2), (result.Sent, result.Delivered, result.Agents));
        Assert.Equal(20, result.Latency.Count);
        Assert.Equal(0, result.MissedJoins);
    }

    [Fact]
    public async Task RouteConnectsEveryArrivingCustomerThroughTheRawServer()
    {
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = raw.BaseAddress,
            Rate = 40,
            Customers = 12,
            Agents = BenchAgents.For(4, capacity: 3),
        });

        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((12, 12, 12L), (result.Connected, result.Offered, result.ToConnected.Count));
    }

    [Fact]
    public async Task BroadcastReachesEveryCustomerOfTheChannelOncePerNavigation()
    {
        var options = new BroadcastOptions { Customers = 5, Broadcasts = 6, WarmupBroadcasts = 2, Interval = TimeSpan.Zero };

        var result = await BroadcastScenario.RunAsync(Target.Raw, options, new SignalRBroadcastDriver(raw.BaseAddress));

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((40L, 40L, 0), (result.Expected, result.Delivered, result.Incomplete));
        // One "to the last customer" figure per measured navigation, one per delivery; warm-up left out.
        Assert.Equal((6L, 30L), (result.Last.Count, result.Each.Count));
        Assert.InRange(result.Each.P50, 0.001, result.Last.Max);
    }

    [Fact]
    public async Task ConnectHoldsEveryConnectionAndReadsTheTargetsMemory()
    {
        // The raw server runs in this process: its RSS is this process's.
        var result = await ConnectScenario.RunAsync(new ConnectOptions { Target = raw.BaseAddress, TargetPid = Environment.ProcessId, Connections = 10 });

        Assert.Null(result.FirstError);
        Assert.Equal((10, 0, 10L), (result.Connected, result.Errors, result.Connect.Count));
        Assert.NotNull(result.RssBeforeMb);
        Assert.NotNull(result.RssAfterMb);
        Assert.NotNull(result.KbPerConnection);
    }
}
