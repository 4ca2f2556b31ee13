using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>The standalone product keeps its sessions across a stop and a start (grain state and records in SQLite).</summary>
public sealed class RestartTests
{
    [Fact]
    public async Task AChatAndAWaitingCustomerSurviveARestartOfTheProduct()
    {
        var before = new GatewayFixture();
        await ((IAsyncLifetime)before).InitializeAsync();
        var slot = before.NextSlot();
        StartChatResult chatting, waiting;
        AcceptResult accepted;
        long lastSeen;
        await using (var agent = before.AgentConnection(await before.TokenAsync(slot.AgentId, slot.Password)))
        await using (var customer = before.CustomerConnection())
        await using (var queued = before.CustomerConnection())
        {
            var offers = agent.Inbox<ChatOffer>("Offer");
            await agent.StartAsync();
            await agent.InvokeAsync("SetStatus", "available");
            await customer.StartAsync();
            chatting = await customer.InvokeAsync<StartChatResult>("StartChat",
                new StartChatInput("demo", slot.Queue, "Dana", null, null, "http://127.0.0.1/demo/", null, null, null));
            await offers.WaitAsync(o => o.SessionId == chatting.SessionId);
            accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", chatting.SessionId);
            lastSeen = (await customer.InvokeAsync<SendResult>("SendMessage", "Before the restart", "c-1")).Seq;
            await agent.InvokeAsync("SetStatus", "away");
            await queued.StartAsync();
            waiting = await queued.InvokeAsync<StartChatResult>("StartChat",
                new StartChatInput("demo", slot.Queue, "Walt", null, null, "http://127.0.0.1/demo/", null, null, null));
        }
        await before.DisposeAsync();

        await using var after = new GatewayFixture { StateFile = before.StateFile, RecordsFile = before.RecordsFile };
        await ((IAsyncLifetime)after).InitializeAsync();
        await using var back = after.CustomerConnection();
        await back.StartAsync();
        var resumed = await back.InvokeAsync<ResumeResult>("Resume", chatting.ResumeToken, 0L);
        Assert.Equal((SessionStatus.Connected, accepted.ChannelId, slot.AgentName), (resumed.Status, resumed.ChannelId, resumed.AgentName));
        Assert.Contains(resumed.Events, e => e.Seq == lastSeen && e.Text == "Before the restart");

        await using var stillWaiting = after.CustomerConnection();
        await stillWaiting.StartAsync();
        var queuedAgain = await stillWaiting.InvokeAsync<ResumeResult>("Resume", waiting.ResumeToken, 0L);
        Assert.Equal((SessionStatus.Queued, 1), (queuedAgain.Status, queuedAgain.Position));

        await using var agentAgain = after.AgentConnection(await after.TokenAsync(slot.AgentId, slot.Password));
        var messages = agentAgain.Inbox<Guid, ChannelEvent>("Message");
        await agentAgain.StartAsync();
        var state = await agentAgain.InvokeAsync<AgentSnapshot>("GetState");
        Assert.Equal(accepted.ChannelId, Assert.Single(state.Chats).ChannelId);
        var sent = await back.InvokeAsync<SendResult>("SendMessage", "After the restart", "c-2");
        Assert.Equal(lastSeen + 1, sent.Seq);
        Assert.Equal("After the restart", (await messages.WaitAsync(m => m.Item2.Seq == sent.Seq)).Item2.Text);
    }
}
