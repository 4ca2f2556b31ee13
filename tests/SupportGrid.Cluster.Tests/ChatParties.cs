using System.Diagnostics;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Cluster.Tests;

/// <summary>A signed-in agent and a customer in an accepted chat, driven through the real SignalR client.</summary>
public sealed class ChatParties : IAsyncDisposable
{
    public required HubConnection Agent { get; init; }
    public required Inbox<(Guid, ChannelEvent)> AgentMessages { get; init; }
    public required HubConnection Customer { get; set; }
    public required Inbox<ChannelEvent> CustomerMessages { get; set; }
    public required StartChatResult Start { get; init; }
    public required AcceptResult Accepted { get; init; }

    public Guid ChannelId => Accepted.ChannelId;

    /// <summary>Every sequence number pushed to the agent, and to the customer (all connections it had).</summary>
    public System.Collections.Concurrent.ConcurrentBag<long> AgentPushed { get; } = [];
    public System.Collections.Concurrent.ConcurrentBag<long> CustomerPushed { get; } = [];

    /// <summary>Points the customer at a new connection (after its gateway died), recording its pushes too.</summary>
    public void Reconnect(HubConnection customer)
    {
        Customer = customer;
        CustomerMessages = customer.Inbox<ChannelEvent>("Message");
        customer.On<ChannelEvent>("Message", e => CustomerPushed.Add(e.Seq));
    }

    /// <summary>Demo agent <c>bob</c> (queue demo/sales) on one gateway, a customer on another (or the same).</summary>
    public static async Task<ChatParties> ConnectAsync(LocalCluster.Member agentGateway, LocalCluster.Member customerGateway)
    {
        var agent = LocalCluster.AgentConnection(agentGateway, await LocalCluster.TokenAsync(agentGateway, "bob"));
        var offers = agent.Inbox<ChatOffer>("Offer");
        var agentMessages = agent.Inbox<Guid, ChannelEvent>("Message");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");

        var customer = LocalCluster.CustomerConnection(customerGateway);
        var customerMessages = customer.Inbox<ChannelEvent>("Message");
        var joined = customer.Inbox<string>("AgentJoined");
        await customer.StartAsync();
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", "sales", "Dana", null, null, "http://127.0.0.1/demo/", "Demo shop", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId, seconds: 30);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await joined.WaitAsync(seconds: 30);
        var parties = new ChatParties
        {
            Agent = agent, AgentMessages = agentMessages, Customer = customer, CustomerMessages = customerMessages,
            Start = start, Accepted = accepted,
        };
        agent.On<Guid, ChannelEvent>("Message", (_, e) => parties.AgentPushed.Add(e.Seq));
        customer.On<ChannelEvent>("Message", e => parties.CustomerPushed.Add(e.Seq));
        return parties;
    }

    /// <summary>Sends until the server acknowledges with a sequence number, retrying with the same client message id
    /// (the channel stores a retried message once). Returns the sequence number and how long it took.</summary>
    public static async Task<(long Seq, TimeSpan Took)> SendUntilAcknowledgedAsync(Func<CancellationToken, Task<SendResult>> send, TimeSpan deadline,
        Action<string>? log = null)
    {
        var clock = Stopwatch.StartNew();
        Exception? last = null;
        while (clock.Elapsed < deadline)
        {
            using var attempt = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try
            {
                var sent = await send(attempt.Token);
                return (sent.Seq, clock.Elapsed);
            }
            catch (Exception e) when (e is HubException or OperationCanceledException or InvalidOperationException)
            {
                // The silo holding the chat is gone and not yet declared dead: the call fails or times out. Retry.
                last = e;
                log?.Invoke($"{clock.Elapsed.TotalSeconds:F1} s: {e.GetType().Name}: {e.Message}");
                await Task.Delay(200);
            }
        }
        throw new TimeoutException($"No acknowledgement within {deadline}: {last}");
    }

    public Task<(long Seq, TimeSpan Took)> CustomerSaysAsync(string text, string id, TimeSpan deadline, Action<string>? log = null) =>
        SendUntilAcknowledgedAsync(t => Customer.InvokeAsync<SendResult>("SendMessage", text, id, t), deadline, log);

    public Task<(long Seq, TimeSpan Took)> AgentSaysAsync(string text, string id, TimeSpan deadline, Action<string>? log = null) =>
        SendUntilAcknowledgedAsync(t => Agent.InvokeAsync<SendResult>("SendMessage", ChannelId, text, id, t), deadline, log);

    public async ValueTask DisposeAsync()
    {
        await Customer.DisposeAsync();
        await Agent.DisposeAsync();
    }
}
