namespace SupportGrid.Bench.Tests;

/// <summary>The <c>broadcast</c> scenario at tiny size against the real in-process deployment: one chat that further
/// customers join with the agent's join code, navigated by the agent.</summary>
[Collection(BenchTargetFixture.Collection)]
public sealed class BroadcastScenarioTests(BenchTargetFixture target)
{
    [Fact]
    public async Task EveryCustomerWhoJoinedWithTheCodeReceivesEachNavigationOnceAndFollowsIt()
    {
        var options = new BroadcastOptions { Customers = 5, Broadcasts = 6, WarmupBroadcasts = 2, Interval = TimeSpan.Zero, SetupConcurrency = 2 };
        var driver = new SupportGridBroadcastDriver(target.BaseAddress, target.Agents);

        var result = await BroadcastScenario.RunAsync(Target.SupportGrid, options, driver).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.Equal((40L, 40L, 0, 0), (result.Expected, result.Delivered, result.Duplicates, result.Incomplete));
        // One "to the last customer" figure per measured navigation, one per delivery; warm-up left out.
        Assert.Equal((6L, 30L), (result.Last.Count, result.Each.Count));
        Assert.InRange(result.Each.P50, 0.001, result.Last.Max);
        // The page is on the gateway's own origin, which the demo site follows: no customer was only shown a link.
        Assert.Equal(0, driver.NotFollowed);
    }

    [Fact]
    public async Task TheAgentsChatEndsWhenTheRunIsOverSoTheAgentIsFreeAgain()
    {
        // Capacity 3: a fourth run could not be offered its chat if the runs before had left theirs open.
        var options = new BroadcastOptions { Customers = 2, Broadcasts = 1, Interval = TimeSpan.Zero };
        for (var run = 0; run < target.Agents.Capacity + 1; run++)
        {
            var result = await BroadcastScenario.RunAsync(Target.SupportGrid, options, new SupportGridBroadcastDriver(target.BaseAddress, target.Agents))
                .WaitAsync(TimeSpan.FromMinutes(1));
            Assert.True(result.ExactlyOnce, $"run {run + 1}: {result}");
        }
    }
}
