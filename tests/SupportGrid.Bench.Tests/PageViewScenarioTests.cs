namespace SupportGrid.Bench.Tests;

/// <summary>The <c>pageview</c> scenario at tiny size: a shopper in Chromium against the real in-process deployment.</summary>
[Collection(BenchTargetFixture.Collection)]
public sealed class PageViewScenarioTests(BenchTargetFixture target)
{
    [Fact]
    public async Task TheAgentReceivesASnapshotThenMoreWhileTheShopperIsActive()
    {
        var result = await PageViewScenario.RunAsync(new PageViewOptions
        {
            Target = target.BaseAddress,
            Agents = target.Agents,
            Idle = TimeSpan.FromSeconds(1),
            Active = TimeSpan.FromSeconds(2),
        }).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(result.SnapshotChars > 1000, result.ToString()); // the whole checkout page, compressed
        Assert.True(result.ActiveBytesPerSecond > 0, result.ToString()); // typing, scrolling and the mouse are sent
        Assert.Equal(0, result.Degraded);
    }
}
