namespace SupportGrid.Bench.Tests;

/// <summary>The <c>chat</c> scenario at tiny size against a real in-process deployment, so the tool cannot rot.</summary>
[Collection(BenchTargetFixture.Collection)]
public sealed class ChatScenarioTests(BenchTargetFixture target)
{
    private ChatOptions Tiny(int messages = 20, int warmup = 4) => new()
    {
        Target = target.BaseAddress,
        Chats = 4,
        Rate = 200,
        Messages = messages,
        WarmupMessages = warmup,
        Agents = target.Agents,
        SetupTimeout = TimeSpan.FromSeconds(45),
    };

    [Fact]
    public async Task EveryMessageArrivesExactlyOnceAtThePeerWithItsLatencyRecorded()
    {
        var result = await ChatScenario.RunAsync(Tiny());

        Assert.Null(result.FirstError);
        Assert.True(result.ExactlyOnce, $"sent {result.Sent}, delivered {result.Delivered}, lost {result.Lost}, duplicates {result.Duplicates}, misrouted {result.Misrouted}, send errors {result.SendErrors}");
        Assert.Equal((24, 24, 0), (result.Sent, result.Delivered, result.Lost));
        Assert.Equal(2, result.Agents);
        // Warm-up messages are delivered and checked but not measured.
        Assert.Equal(20, result.Latency.Count);
        Assert.Equal(20, result.Ack.Count);
        Assert.InRange(result.Latency.P50, 0.001, result.Latency.Max);
        Assert.InRange(result.Latency.P99, result.Latency.P50, result.Latency.Max);
    }

    [Fact]
    public async Task ReportsTheCpuTimeEachMessageTookInTheTargetAndInTheTool()
    {
        // Half a second of sending (under the fixture's 20 calls a second per connection), so that the CPU counters
        // (10 ms ticks) move; the target runs in this process.
        var result = await ChatScenario.RunAsync(Tiny(messages: 30, warmup: 0) with { Rate = 60, TargetPid = Environment.ProcessId });

        Assert.True(result.ExactlyOnce, result.ToString());
        Assert.True(result.TargetCpuMsPerMessage > 0 && result.ToolCpuMsPerMessage > 0, result.ToString());
    }

    [Theory]
    [InlineData(null)] // the attackers in this process
    [InlineData(10)] // in a process of their own under nice (bench attack)
    public async Task UnderAttackEveryMessageStillArrivesOnceAndTheAttackersAreTurnedAway(int? nice)
    {
        // Five seconds of chat beside the two attackers, every connection from an address of its own; the deployment
        // allows 40 connections per address and closes a connection after 5 refused calls in a row (BenchTargetFixture).
        // 40 msg/s over 4 chats and 2 agents keeps every ordinary connection well under its own call limit.
        var result = await ChatScenario.RunAsync(Tiny(messages: 200, warmup: 0) with { Rate = 40, DistinctAddresses = true, Attack = true, AttackNice = nice });

        Assert.True(result.ExactlyOnce, $"sent {result.Sent}, delivered {result.Delivered}, lost {result.Lost}, send errors {result.SendErrors}, first error {result.FirstError}");
        var attack = result.Attack!;
        Assert.Null(attack.FirstError);
        Assert.True(attack.ConnectionsOpened > 0 && attack.ConnectionsHeldMax <= 40 + 8, $"the opener held at most the cap: {attack}");
        Assert.True(attack.CallsSent > 0 || attack.FlooderRefusedConnects > 0, $"the flooder ran: {attack}");
        if (nice is not null)
            return; // a niced process gets only idle CPU: on a loaded machine it may not get far in five seconds
        // The flooder is refused, disconnected and then kept out; or, when an earlier run against this deployment already
        // put its address in its cool-down, kept out from the start (no call gets through).
        Assert.True(attack.FlooderRefusedConnects > 0 && (attack.CallsSent == 0 || (attack.CallsRefused > 0 && attack.FlooderDisconnects > 0)),
            $"the flood was refused, disconnected and kept out: {attack}");
        Assert.True(attack.ConnectionsRefused > 0, $"the opener met the per-address cap: {attack}");
    }

    [Fact]
    public async Task RunsBackToBackAgainstTheSameDeploymentBecauseEachRunEndsItsChats()
    {
        // Two agents of capacity 3 hold six chats: a second run of four only fits if the first one freed its chats.
        var first = await ChatScenario.RunAsync(Tiny(messages: 8, warmup: 0));
        var second = await ChatScenario.RunAsync(Tiny(messages: 8, warmup: 0));

        Assert.True(first.ExactlyOnce && second.ExactlyOnce, $"first: {first}; second: {second}");
    }

    [Fact]
    public async Task SavesTheResultsTableAsMarkdownAndJson()
    {
        var result = await ChatScenario.RunAsync(Tiny(messages: 8, warmup: 0));
        var folder = Directory.CreateTempSubdirectory("bench-results-");
        try
        {
            var markdown = Report.SaveChat(folder.FullName, MachineInfo.Current("bench chat --chats 4"), [new ChatRun(1, result, null, null)]);

            var text = await File.ReadAllTextAsync(markdown);
            Assert.Contains("bench chat --chats 4", text);
            Assert.Contains("| 1 | 4 | 200 |", text);
            Assert.Single(folder.GetFiles("*.json"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
