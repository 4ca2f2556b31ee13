using System.Diagnostics;
using Xunit.Abstractions;

namespace SupportGrid.Cluster.Tests;

/// <summary>A gateway stopped as Kubernetes stops a pod (SIGTERM) sends its clients to another gateway first.</summary>
[Collection(ProcessCollection.Name)]
public sealed class GatewayDrainTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Deadline = TimeSpan.FromSeconds(30);

    [SkippableFact]
    public async Task AStoppingGatewayMovesItsClientsToAnotherGatewayWithNothingMissedAndNoError()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 2);
        var (doomed, survivor) = (cluster.Gateways[0], cluster.Gateways[1]);
        await using var bob = await FloorAgent.SignInAsync(cluster, doomed, "bob");
        await using var onDoomed = await FloorCustomer.StartChatAsync(cluster, doomed, "Dana");
        await using var onSurvivor = await FloorCustomer.StartChatAsync(cluster, survivor, "Eli");
        List<FloorChat> chats = [];
        foreach (var customer in new[] { onDoomed, onSurvivor })
        {
            await bob.OfferAsync(o => o.SessionId == customer.Start.SessionId, Deadline);
            chats.Add(new FloorChat(customer, bob, (await bob.AcceptAsync(customer.Start.SessionId)).ChannelId));
            await customer.Joined.Task.WaitAsync(Deadline);
        }

        using var stop = new CancellationTokenSource();
        var talking = chats.Select(c => Task.Run(() => c.TalkAsync("drain", stop.Token, Deadline))).ToList();
        await UntilAsync(() => chats.All(c => c.Sent.Count >= 4));

        var clock = Stopwatch.StartNew();
        doomed.Process.Terminate();
        Assert.True(await doomed.Process.WaitForExitAsync(TimeSpan.FromSeconds(40)), doomed.Process.Tail());
        output.WriteLine($"The gateway exited {clock.Elapsed.TotalSeconds:F1} s after SIGTERM.");
        // It exited because its clients had left, not because the drain gave up on them.
        Assert.Contains("Every client has moved to another gateway", doomed.Process.Tail(200));

        // The moved clients talk on, through the other gateway.
        var sentBefore = chats.Select(c => c.Sent.Count).ToList();
        await UntilAsync(() => chats.Select((c, i) => c.Sent.Count >= sentBefore[i] + 4).All(x => x));
        await stop.CancelAsync();
        await Task.WhenAll(talking);

        Assert.Equal((1, 1), (bob.ReconnectPushes, bob.Moves));
        Assert.Equal((1, 1), (onDoomed.ReconnectPushes, onDoomed.Moves));
        Assert.Equal((0, 0), (onSurvivor.ReconnectPushes, onSurvivor.Moves));
        Assert.Equal(survivor, bob.Gateway);
        Assert.Equal(survivor, onDoomed.Gateway);
        // No error reached any client: not one send needed a second attempt.
        foreach (var client in new FloorClient[] { bob, onDoomed, onSurvivor })
            Assert.True(client.Errors.IsEmpty, string.Join("\n", client.Errors));
        Assert.All(chats.SelectMany(c => c.Sent), s => Assert.Equal(0, s.Failures));
        foreach (var chat in chats)
            await chat.AssertDeliveredExactlyOnceAsync();
    }

    internal static async Task UntilAsync(Func<bool> condition, int seconds = 60)
    {
        var deadline = Stopwatch.StartNew();
        while (!condition())
        {
            if (deadline.Elapsed > TimeSpan.FromSeconds(seconds))
                throw new TimeoutException($"Condition not met within {seconds} s.");
            await Task.Delay(50);
        }
    }
}
