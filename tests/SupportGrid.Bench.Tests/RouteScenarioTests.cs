namespace SupportGrid.Bench.Tests;

/// <summary>The <c>route</c> scenario at tiny size against the real in-process deployment.</summary>
[Collection(BenchTargetFixture.Collection)]
public sealed class RouteScenarioTests(BenchTargetFixture target)
{
    [Fact]
    public async Task EveryArrivingCustomerIsOfferedAndConnectedWithBothLatenciesRecorded()
    {
        // Two agents of capacity 3: twelve customers in 0.6 s only all connect because each chat ends once connected.
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = target.BaseAddress,
            Rate = 20,
            Customers = 10,
            WarmupCustomers = 2,
            Agents = target.Agents,
            TargetPid = Environment.ProcessId, // the target runs in this process
        }).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((12, 12, 12, 0, 2), (result.Arrived, result.Offered, result.Connected, result.Failed, result.Agents));
        // The CPU the routing took, per chat: the target's (here this whole process, tool included) and the tool's own.
        Assert.True(result.TargetCpuMsPerChat > 0 && result.ToolCpuMsPerChat > 0, result.ToString());
        // Warm-up arrivals are checked but not measured.
        Assert.Equal((10L, 10L, 10L), (result.ToOffer.Count, result.ToConnected.Count, result.StartAnswer.Count));
        // The offer reaches the agent before the agent's accept can bring AgentJoined to the customer.
        Assert.InRange(result.ToOffer.P50, 0.001, result.ToConnected.Max);
        Assert.InRange(result.ToConnected.P99, result.ToConnected.P50, result.ToConnected.Max);
    }

    [Fact]
    public async Task ArrivalsAreRoutedPastCustomersAlreadyWaitingForTheirOwnAgent()
    {
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = target.BaseAddress,
            Rate = 20,
            Customers = 8,
            Waiting = target.WaitingCustomers,
            Agents = target.Agents,
        }).WaitAsync(TimeSpan.FromMinutes(2));

        // Every arrival connected; the backlog waited (queued ahead of them) and was never offered to a bench agent.
        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((8, 8, target.WaitingCustomers, 0), (result.Arrived, result.Connected, result.Waiting, result.BacklogOffered));
    }

    [Fact]
    public async Task IdleConnectionsStayOpenThroughTheRunWithoutChats()
    {
        // route --idle: the control for --waiting, connections that never start a chat.
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = target.BaseAddress,
            Rate = 20,
            Customers = 6,
            Idle = 5,
            Agents = target.Agents,
        }).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((6, 6, 5, 0), (result.Arrived, result.Connected, result.Idle, result.Waiting));
    }

    [Fact]
    public async Task ABacklogHeldByAProcessOfItsOwnWaitsWhileArrivalsAreRoutedPastIt()
    {
        // route --backlog-nice: the waiting customers and the idle connections live in a `bench backlog` child process.
        var result = await RouteScenario.RunAsync(new RouteOptions
        {
            Target = target.BaseAddress,
            Rate = 20,
            Customers = 6,
            Waiting = target.WaitingCustomers,
            Idle = 3,
            BacklogNice = 0,
            Agents = target.Agents,
        }).WaitAsync(TimeSpan.FromMinutes(2));

        Assert.True(result.AllConnected, result.ToString());
        Assert.Equal((6, 6, target.WaitingCustomers, 3, 0), (result.Arrived, result.Connected, result.Waiting, result.Idle, result.BacklogOffered));
    }
}
