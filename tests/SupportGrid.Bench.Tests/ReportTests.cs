namespace SupportGrid.Bench.Tests;

/// <summary>The side-by-side tables: medians per target and the ratio of the first target to each other one.</summary>
public sealed class ReportTests
{
    private static BroadcastResult Broadcast(string target, double lastP50) => new(target, 10, 5, 50, 50, 0, 0,
        new LatencySummary(5, lastP50, lastP50, lastP50, lastP50, lastP50), new LatencySummary(50, 1, 1, 1, 1, 1), 0.1, null);

    [Fact]
    public void CompareTableShowsMediansOfEachTargetAndTheRatioToTheFirst()
    {
        var table = Report.BroadcastTable([
            new TargetRuns<BroadcastResult>(Target.Raw, [Broadcast(Target.Raw, 4), Broadcast(Target.Raw, 9), Broadcast(Target.Raw, 5)]),
            new TargetRuns<BroadcastResult>(Target.SocketIo, [Broadcast(Target.SocketIo, 20), Broadcast(Target.SocketIo, 10), Broadcast(Target.SocketIo, 1)]),
        ]);

        Assert.Contains("| median of 3 runs | signalr-raw | socketio | signalr-raw / socketio |", table);
        Assert.Contains("| to last customer p50 ms | 5 | 10 | 0.50x |", table);
        Assert.Contains("| socketio | 3 | 10 | 5 | 50/50 |", table);
    }
}
