using Microsoft.AspNetCore.SignalR;

namespace SupportGrid.Bench.RawSignalR;

/// <summary><c>/hubs/agent</c>: AcceptOffer puts both sides in their channel groups and tells the customer;
/// SendMessage relays to the channel's customer group; NavigateCustomers sends <c>Navigate</c> to every customer of the
/// channel with one group send. SignalR groups belong to one hub: customers' groups are reached through the customer
/// hub's context.</summary>
public sealed class RawAgentHub(RawState state, IHubContext<RawCustomerHub> customers) : Hub
{
    private static readonly Participant Agent = new("agent", "Raw agent");

    public void SetStatus(string status) => state.SetAvailable(Context.ConnectionId, status == "available");

    public async Task<AcceptResult> AcceptOffer(Guid sessionId)
    {
        if (state.Accept(sessionId) is not var (channel, customer))
            throw new HubException("offer_not_found: the customer left.");
        await Groups.AddToGroupAsync(Context.ConnectionId, RawState.AgentGroup(channel.Id));
        await customers.Groups.AddToGroupAsync(customer, RawState.CustomerGroup(channel.Id));
        await customers.Clients.Client(customer).SendAsync("AgentJoined", Agent.Name);
        return new AcceptResult(channel.Id, sessionId);
    }

    public async Task<SendResult> SendMessage(Guid channelId, string text, string clientMessageId)
    {
        var evt = new ChannelEvent(state.Channel(channelId).NextSeq(), "message", Agent, text, null, DateTimeOffset.UtcNow);
        await customers.Clients.Group(RawState.CustomerGroup(channelId)).SendAsync("Message", evt);
        return new SendResult(evt.Seq);
    }

    public async Task<SendResult> NavigateCustomers(Guid channelId, string url)
    {
        var seq = state.Channel(channelId).NextSeq();
        await customers.Clients.Group(RawState.CustomerGroup(channelId)).SendAsync("Navigate", new NavigateEvent(url, seq, true));
        return new SendResult(seq);
    }

    public void EndChat(Guid channelId) => state.EndChannel(channelId);

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        state.SetAvailable(Context.ConnectionId, false);
        return Task.CompletedTask;
    }
}
