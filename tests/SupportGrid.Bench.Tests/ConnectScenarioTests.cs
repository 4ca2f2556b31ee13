namespace SupportGrid.Bench.Tests;

/// <summary>The <c>connect</c> scenario at tiny size against the real in-process deployment.</summary>
[Collection(BenchTargetFixture.Collection)]
public sealed class ConnectScenarioTests(BenchTargetFixture target)
{
    [Fact]
    public async Task IdleCustomersConnectWithoutStartingAChat()
    {
        var result = await ConnectScenario.RunAsync(new ConnectOptions { Target = target.BaseAddress, TargetPid = Environment.ProcessId, Connections = 8 });

        Assert.Null(result.FirstError);
        Assert.Equal((8, 0, 8L, false), (result.Connected, result.Errors, result.Connect.Count, result.StartChat));
        Assert.NotNull(result.KbPerConnection);
    }

    [Fact]
    public async Task QueuedCustomersLeaveTheQueueAtTheEndSoTheNextRunIsServed()
    {
        // Five customers wait in demo/sales with no agent available; then two agents of capacity 3 (six chats) must
        // serve a four-chat run: that only fits if the five queued customers left the queue when the scenario ended.
        var queued = await ConnectScenario.RunAsync(new ConnectOptions { Target = target.BaseAddress, Connections = 5, StartChat = true });
        var chat = await ChatScenario.RunAsync(new ChatOptions
        {
            Target = target.BaseAddress,
            Chats = 4,
            Rate = 200,
            Messages = 8,
            Agents = target.Agents,
            SetupTimeout = TimeSpan.FromSeconds(45),
        });

        Assert.Null(queued.FirstError);
        Assert.Equal((5, 0, true), (queued.Connected, queued.Errors, queued.StartChat));
        Assert.True(chat.ExactlyOnce, chat.ToString());
    }
}
