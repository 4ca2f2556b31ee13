using Microsoft.AspNetCore.SignalR.Client;
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
}
