using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;
using Xunit.Abstractions;

namespace SupportGrid.Cluster.Tests;

/// <summary>Customers waiting in a queue when the silo holding the queue grain dies with SIGKILL (real Redis).</summary>
[Collection(ProcessCollection.Name)]
public sealed class QueueFailoverTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Recovery = TimeSpan.FromSeconds(60);

    [SkippableFact]
    public async Task WaitingCustomersKeepTheirPlacesAndOrderWhenTheSiloHoldingTheQueueIsKilled()
    {
        TestStores.Require();
        // Customers queue while no agent is signed in; bob takes one chat at a time, so offers come one by one, in order.
        await using var cluster = await LocalCluster.StartAsync(silos: 3, gateways: 1, new Dictionary<string, string>
        {
            ["SupportGrid__Routing__OfflineWhenNoAgents"] = "false",
            ["SupportGrid__Agents__bob__Capacity"] = "1",
        });
        var gateway = cluster.Gateways[0];
        List<HubConnection> connections = [];
        try
        {
            // Three shoppers wait, in this order, with no agent signed in.
            var waiting = new List<Guid>();
            foreach (var name in new[] { "Ann", "Ben", "Cat" })
            {
                var customer = LocalCluster.CustomerConnection(gateway);
                connections.Add(customer);
                await customer.StartAsync();
                // A cluster that has just started can still refuse a call with `unavailable` (a silo still joining): a
                // client tries again, as the widget does.
                var start = await UntilAvailableAsync(() => customer.InvokeAsync<StartChatResult>("StartChat",
                    new StartChatInput("demo", "sales", name, null, null, "http://127.0.0.1/demo/", "Demo shop", null, null)), cluster);
                Assert.Equal(waiting.Count + 1, start.Position);
                waiting.Add(start.SessionId);
            }

            // Kill the silo that holds the queue grain, as a lost node would.
            var victim = await cluster.SiloHoldingAsync(c => c.GetGrain<IQueueGrain>(QueueKey.For("demo", "sales")));
            victim.Process.Kill();
            output.WriteLine($"Killed silo on port {victim.Port}, which held the queue.");

            // The queue answers again once the cluster has replaced the lost silo (until then: `unavailable`, and says so).
            await UntilAvailableAsync(() => connections[0].InvokeAsync<QueueAvailability>("GetAvailability", "demo", "sales"), cluster);

            // An agent with room for one chat at a time signs in: the shoppers are offered in their original order.
            var agent = LocalCluster.AgentConnection(gateway, await LocalCluster.TokenAsync(gateway, "bob"));
            connections.Add(agent);
            var offers = agent.Inbox<ChatOffer>("Offer");
            await agent.StartAsync();
            await UntilAvailableAsync(() => agent.InvokeAsync("SetStatus", "available"), cluster);
            var served = new List<Guid>();
            foreach (var _ in waiting)
            {
                var offer = await offers.WaitAsync(o => !served.Contains(o.SessionId), seconds: (int)Recovery.TotalSeconds);
                served.Add(offer.SessionId);
                var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", offer.SessionId);
                await agent.InvokeAsync("EndChat", accepted.ChannelId);
            }
            Assert.Equal(waiting, served);
        }
        finally
        {
            foreach (var connection in connections)
                await connection.DisposeAsync();
        }
    }

    private Task UntilAvailableAsync(Func<Task> call, LocalCluster cluster) => cluster.UntilAvailableAsync(call, Recovery, output.WriteLine);

    private Task<T> UntilAvailableAsync<T>(Func<Task<T>> call, LocalCluster cluster) => cluster.UntilAvailableAsync(call, Recovery, output.WriteLine);
}
