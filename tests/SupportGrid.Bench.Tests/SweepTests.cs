namespace SupportGrid.Bench.Tests;

/// <summary>Sweeps: the list options, the "highest value held" verdict, the sweep tables and the PNG plots.</summary>
public sealed class SweepTests
{
    private static RouteResult Route(double rate, double p99, int failed = 0) => new(rate, rate, 2, 10, 10, 10 - failed, failed,
        new LatencySummary(10, 1, 1, 2, 2, 2), new LatencySummary(10, p99 / 2, p99, p99, p99, p99), new LatencySummary(10, 1, 1, 1, 1, 1), 0.1, 1, null);

    private static SweepPoint<RouteResult> Point(double rate, params (string Target, RouteResult Result)[] runs) =>
        new(rate, [.. runs.GroupBy(r => r.Target).Select(g => new TargetRuns<RouteResult>(g.Key, [.. g.Select(x => x.Result)]))]);

    [Fact]
    public void ParsesCommaSeparatedListsAndRefusesWhatIsNotAPositiveNumber()
    {
        Assert.Equal([250.0, 500, 1000, 2000], Sweep.ParseList(["250,500", "1000", " 2000 "]));
        Assert.Throws<FormatException>(() => Sweep.ParseList(["250,x"]));
        Assert.Throws<FormatException>(() => Sweep.ParseList(["0"]));
    }

    [Fact]
    public void HighestHeldIsTheLastPointBeforeTheFirstOneMissedGoingUp()
    {
        var points = new[]
        {
            Point(100, (Target.SupportGrid, Route(100, 10)), (Target.Raw, Route(100, 5))),
            Point(200, (Target.SupportGrid, Route(200, 80)), (Target.Raw, Route(200, 6))),
            // Held again above a miss: does not count, the rate was not held all the way up.
            Point(400, (Target.SupportGrid, Route(400, 20)), (Target.Raw, Route(400, 7, failed: 1))),
        };

        var held = Sweep.HighestHeld(points, SweepReport.RouteHeld(50));

        Assert.Equal([new Held(Target.SupportGrid, 100, 200), new Held(Target.Raw, 200, 400)], held);
        var table = SweepReport.RouteSweepTable(points, 50);
        Assert.Contains("| 200 | supportgrid | 1 | 1 | 2 | 40 | 80 | 200 | yes |", table);
        Assert.Contains("- supportgrid: highest R held with p99 request -> connected under 50 ms, all connected, rate kept: **100** (first missed: 200)", table);
    }

    [Fact]
    public void AConnectSweepSaysThatOnlyItsFirstSizeIsMeasuredOnAFreshTarget()
    {
        static ConnectResult Connect(int n, double kb) =>
            new(n, false, n, 0, 1, new LatencySummary(n, 1, 2, 3, 4, 5), 100, 100 + n * kb / 1024, kb, null);
        var one = SweepReport.ConnectSweepTable([new SweepPoint<ConnectResult>(1000, [new TargetRuns<ConnectResult>(Target.SupportGrid, [Connect(1000, 25)])])]);
        var two = SweepReport.ConnectSweepTable([
            new SweepPoint<ConnectResult>(1000, [new TargetRuns<ConnectResult>(Target.SupportGrid, [Connect(1000, 25)])]),
            new SweepPoint<ConnectResult>(2000, [new TargetRuns<ConnectResult>(Target.SupportGrid, [Connect(2000, 11)])]),
        ]);

        Assert.DoesNotContain(SweepReport.SweepReusesTargetNote, one);
        Assert.Contains("| 2000 | supportgrid | 1 | 11 |", two);
        Assert.Contains(SweepReport.SweepReusesTargetNote, two);
    }

    [Fact]
    public void WritesAPngPlotWithOneLinePerTargetAndMetric()
    {
        var folder = Directory.CreateTempSubdirectory("bench-plots-");
        try
        {
            var points = new[] { Point(100, (Target.SupportGrid, Route(100, 10))), Point(200, (Target.SupportGrid, Route(200, 30))) };

            var path = Plots.Route(folder.FullName, points);

            var bytes = File.ReadAllBytes(path);
            Assert.Equal("route-latency.png", Path.GetFileName(path));
            Assert.True(bytes.Length > 5_000, $"{bytes.Length} bytes");
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], bytes[..4]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void ASavedSweepIsReadBackAndPlottedAgainWithoutRunningIt()
    {
        var folder = Directory.CreateTempSubdirectory("bench-replot-");
        try
        {
            var points = new[]
            {
                Point(100, (Target.SupportGrid, Route(100, 10)), (Target.Raw, Route(100, 0.8))),
                Point(200, (Target.SupportGrid, Route(200, 3000)), (Target.Raw, Route(200, 1.5))),
            };
            var saved = SweepReport.SaveSweep(folder.FullName, "route-100-200r", "route", MachineInfo.Current("bench route --rate 100,200"), "route", points, "tables");
            var json = Path.ChangeExtension(saved, ".json");

            var read = Plots.ReadPoints<RouteResult>(json);
            var path = Plots.Replot(json, Path.Combine(folder.FullName, "plots"));

            Assert.Equal([100.0, 200], read.Select(p => p.Value));
            for (var i = 0; i < points.Length; i++)
            {
                Assert.Equal(points[i].Targets.Select(t => t.Target), read[i].Targets.Select(t => t.Target));
                for (var t = 0; t < points[i].Targets.Count; t++)
                    Assert.Equal(points[i].Targets[t].Runs, read[i].Targets[t].Runs); // records: every field
            }
            Assert.Equal("route-latency.png", Path.GetFileName(path));
            Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], File.ReadAllBytes(path)[..4]);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    [Fact]
    public void AResultsFileOfOnePointHasNoPlotAndSaysSo()
    {
        var folder = Directory.CreateTempSubdirectory("bench-replot-");
        try
        {
            var saved = SweepReport.SaveSweep(folder.FullName, "route-100r", "route", MachineInfo.Current("bench route"), "route",
                [Point(100, (Target.SupportGrid, Route(100, 10)))], "tables");

            var error = Assert.Throws<InvalidOperationException>(() => Plots.Replot(Path.ChangeExtension(saved, ".json"), folder.FullName));

            Assert.Contains("not a sweep of two points or more", error.Message);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
