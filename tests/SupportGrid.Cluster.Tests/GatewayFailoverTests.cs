using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Cluster.Tests;

/// <summary>Gateways are interchangeable: a customer whose gateway dies resumes on another with nothing missed.</summary>
[Collection(ProcessCollection.Name)]
public sealed class GatewayFailoverTests
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task ACustomerResumesOnTheOtherGatewayWhenItsGatewayIsKilled()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 2);
        var (doomed, survivor) = (cluster.Gateways[0], cluster.Gateways[1]);
        await using var chat = await ChatParties.ConnectAsync(agentGateway: survivor, customerGateway: doomed);
        var seen = await chat.AgentSaysAsync("Welcome", "a-0", Deadline);
        await chat.CustomerMessages.WaitAsync(e => e.Seq == seen.Seq);

        doomed.Process.Kill();
        var missed1 = await chat.AgentSaysAsync("Did the page crash?", "a-1", Deadline);
        var missed2 = await chat.AgentSaysAsync("I am still here", "a-2", Deadline);

        // The customer's client reconnects elsewhere (through the load balancer) and resumes from the last number it saw.
        await chat.Customer.DisposeAsync();
        chat.Reconnect(LocalCluster.CustomerConnection(survivor));
        await chat.Customer.StartAsync();
        var resumed = await chat.Customer.InvokeAsync<ResumeResult>("Resume", chat.Start.ResumeToken, seen.Seq);
        Assert.Equal(SessionStatus.Connected, resumed.Status);
        Assert.Equal([(missed1.Seq, "Did the page crash?"), (missed2.Seq, "I am still here")], resumed.Events.Select(e => (e.Seq, e.Text)));

        var live = await chat.AgentSaysAsync("Good to have you back", "a-3", Deadline);
        Assert.Equal("Good to have you back", (await chat.CustomerMessages.WaitAsync(e => e.Seq == live.Seq)).Text);
        var answer = await chat.CustomerSaysAsync("Thanks", "c-1", Deadline);
        Assert.Equal(live.Seq + 1, answer.Seq);
        Assert.Equal("Thanks", (await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == answer.Seq)).Item2.Text);
    }

    [SkippableFact]
    public async Task AStoppingGatewayAsksItsClientsToMoveFinishesTheirCallsAndTheyResumeOnTheOtherWithNothingMissed()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 2);
        var (stopping, survivor) = (cluster.Gateways[0], cluster.Gateways[1]);
        await using var chat = await ChatParties.ConnectAsync(agentGateway: survivor, customerGateway: stopping);
        var reconnect = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        chat.Customer.On("Reconnect", () => reconnect.TrySetResult());
        var seen = await chat.AgentSaysAsync("Welcome", "a-0", Deadline);
        await chat.CustomerMessages.WaitAsync(e => e.Seq == seen.Seq);

        // SIGTERM, as in a rolling upgrade: the gateway tells its clients to move, and is no longer ready for new ones.
        stopping.Process.Terminate();
        await reconnect.Task.WaitAsync(Deadline);
        using (var http = new HttpClient { BaseAddress = stopping.Http })
            Assert.Equal(System.Net.HttpStatusCode.ServiceUnavailable, (await http.GetAsync("/health/ready")).StatusCode);

        // A client that has not moved yet is still served: its call completes, no error.
        var before = await chat.Customer.InvokeAsync<SendResult>("SendMessage", "One more question", "c-0");
        Assert.Equal("One more question", (await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == before.Seq)).Item2.Text);
        var missed = await chat.AgentSaysAsync("Go ahead", "a-1", Deadline);

        // The client moves (through the load balancer) and resumes from the last number it saw (its own message's, which
        // it has in the answer).
        await chat.Customer.DisposeAsync();
        chat.Reconnect(LocalCluster.CustomerConnection(survivor));
        await chat.Customer.StartAsync();
        var resumed = await chat.Customer.InvokeAsync<ResumeResult>("Resume", chat.Start.ResumeToken, before.Seq);
        Assert.Equal(SessionStatus.Connected, resumed.Status);
        Assert.Equal([(missed.Seq, "Go ahead")], resumed.Events.Select(e => (e.Seq, e.Text)));

        // The gateway stopped once its last client had gone, not at the end of its wait.
        Assert.True(await stopping.Process.WaitForExitAsync(Deadline), stopping.Process.Tail());
        Assert.Contains("Every client has moved to another gateway", stopping.Process.Tail(200));
        var after = await chat.CustomerSaysAsync("Thanks", "c-1", Deadline);
        Assert.Equal("Thanks", (await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == after.Seq)).Item2.Text);
    }
}
