using Microsoft.AspNetCore.SignalR;

namespace SupportGrid.Bench.RawSignalR;

/// <summary><c>/hubs/customer</c>: StartChat offers the chat to the next available agent; SendMessage relays to the
/// channel's agent group. <c>JoinChannel</c> is not in the product's protocol: it puts this connection in a channel's
/// customer group for the broadcast scenario (the baseline has no join codes; SupportGrid customers join with CreateJoinCode/JoinChat).</summary>
public sealed class RawCustomerHub(RawState state, IHubContext<RawAgentHub> agents) : Hub
{
    private const string SessionKey = "session";

    public async Task<StartChatResult> StartChat(StartChatInput request)
    {
        var sessionId = Guid.NewGuid();
        Context.Items[SessionKey] = sessionId;
        state.Wait(sessionId, Context.ConnectionId);
        if (state.NextAgent() is { } agent)
            await agents.Clients.Client(agent).SendAsync("Offer", new ChatOffer(sessionId, $"{request.Site}/{request.Queue}"));
        return new StartChatResult(sessionId, sessionId.ToString("N"), 1);
    }

    public async Task<SendResult> SendMessage(string text, string clientMessageId)
    {
        var channel = Context.Items.TryGetValue(SessionKey, out var s) && s is Guid sessionId ? state.ChannelOf(sessionId) : null;
        if (channel is null)
            throw new HubException("invalid_state: no agent has joined.");
        var evt = new ChannelEvent(channel.NextSeq(), "message", new Participant("customer", "Customer"), text, null, DateTimeOffset.UtcNow);
        await agents.Clients.Group(RawState.AgentGroup(channel.Id)).SendAsync("Message", channel.Id, evt);
        return new SendResult(evt.Seq);
    }

    public Task SetTyping(bool isTyping) => Task.CompletedTask;

    public ResumeResult Resume(string resumeToken, long afterSeq) =>
        new(Guid.ParseExact(resumeToken, "N"), "connected");

    public Task JoinChannel(Guid channelId) => Groups.AddToGroupAsync(Context.ConnectionId, RawState.CustomerGroup(channelId));

    public void EndChat()
    {
        if (Context.Items.TryGetValue(SessionKey, out var s) && s is Guid sessionId)
            state.End(sessionId);
    }

    public override Task OnDisconnectedAsync(Exception? exception)
    {
        EndChat();
        return Task.CompletedTask;
    }
}
