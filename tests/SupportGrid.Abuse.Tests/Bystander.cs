using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>
/// An ordinary chat running beside an attack, from an address of its own: a shopper and an agent who keep talking.
/// <see cref="StillChattingAsync"/> proves, after the attack, that both still reach each other both ways.
/// </summary>
public sealed class Bystander : IAsyncDisposable
{
    private readonly HubConnection _customer;
    private readonly HubConnection _agent;
    private readonly Inbox<ChannelEvent> _atCustomer;
    private readonly Inbox<(Guid, ChannelEvent)> _atAgent;
    private Guid _channel;
    private int _round;

    private Bystander(HubConnection customer, HubConnection agent)
    {
        _customer = customer;
        _agent = agent;
        _atCustomer = customer.Inbox<ChannelEvent>("Message");
        _atAgent = agent.Inbox<Guid, ChannelEvent>("Message");
    }

    /// <summary>A connected chat in the slot's queue; the customer and agent speak from a fresh address each.</summary>
    public static async Task<Bystander> StartAsync(AbuseGateway gateway, AbuseGateway.Slot slot)
    {
        var agentAddress = gateway.NextAddress();
        var agent = gateway.Agent(await gateway.TokenAsync(slot.AgentId, agentAddress), agentAddress);
        var customer = gateway.Customer(gateway.NextAddress());
        var bystander = new Bystander(customer, agent);
        var offers = agent.Inbox<ChatOffer>("Offer");
        var joined = customer.Inbox<string>("AgentJoined");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        await customer.StartAsync();
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", slot.Queue, "Bystander", null, null, "http://127.0.0.1/demo/", "Demo", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        bystander._channel = (await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId)).ChannelId;
        await joined.WaitAsync();
        await bystander.StillChattingAsync();
        return bystander;
    }

    /// <summary>Both connections are up and a message goes each way.</summary>
    public async Task StillChattingAsync()
    {
        Assert.Equal(HubConnectionState.Connected, _customer.State);
        Assert.Equal(HubConnectionState.Connected, _agent.State);
        var round = Interlocked.Increment(ref _round);
        var asked = await _customer.InvokeAsync<SendResult>("SendMessage", $"question {round}", $"c-{round}");
        Assert.Equal($"question {round}", (await _atAgent.WaitAsync(m => m.Item2.Seq == asked.Seq)).Item2.Text);
        var answered = await _agent.InvokeAsync<SendResult>("SendMessage", _channel, $"answer {round}", $"a-{round}");
        Assert.Equal($"answer {round}", (await _atCustomer.WaitAsync(e => e.Seq == answered.Seq)).Text);
    }

    public async ValueTask DisposeAsync()
    {
        await _customer.DisposeAsync();
        await _agent.DisposeAsync();
    }
}
