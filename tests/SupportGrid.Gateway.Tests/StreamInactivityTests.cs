using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
using Orleans.Runtime;
using Orleans.Streaming.Diagnostics;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// <c>SupportGrid:Silo:StreamInactivityPeriod</c>: a channel whose stream has been quiet for longer is dropped from its
/// queue's pulling agent (which walks that table on every read); the next event looks the stream up again and still
/// reaches the channel's members. Its own gateway, with a period of 300 ms.
/// </summary>
public sealed class StreamInactivityTests
{
    private static readonly TimeSpan Period = TimeSpan.FromMilliseconds(300);

    [Fact]
    public async Task ANavigationAfterTheChannelsStreamWasDroppedForInactivityStillReachesTheCustomer()
    {
        await using var gateway = new GatewayFixture { Settings = { ["SupportGrid:Silo:StreamInactivityPeriod"] = Period.ToString() } };
        await ((IAsyncLifetime)gateway).InitializeAsync();
        Assert.Equal(Period, gateway.Services.GetRequiredService<IOptionsMonitor<StreamPullingAgentOptions>>().Get(StreamNames.Provider).StreamInactivityPeriod);

        var slot = gateway.NextSlot();
        await using var agent = gateway.AgentConnection(await gateway.TokenAsync(slot.AgentId, slot.Password));
        await using var customer = gateway.CustomerConnection();
        var offers = agent.Inbox<ChatOffer>("Offer");
        var navigations = customer.Inbox<NavigateCommand>("Navigate");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        await customer.StartAsync();
        var chat = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", slot.Queue, "Ivy", null, null, "http://127.0.0.1/demo/", null, null, null));
        await offers.WaitAsync(o => o.SessionId == chat.SessionId);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", chat.SessionId);

        var stream = StreamId.Create(StreamNames.ChannelNamespace, accepted.ChannelId);
        var dropped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using var watching = StreamingEvents.AllEvents.Subscribe(new Observer(e =>
        {
            if (e is StreamingEvents.StreamInactive inactive && inactive.StreamId == stream)
                dropped.TrySetResult();
        }));

        var page = new Uri(gateway.BaseAddress, "/demo/products/kettle.html").AbsoluteUri;
        var first = await agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, page);
        await navigations.WaitAsync(n => n.Seq == first.Seq);

        // The chat goes quiet until its queue's pulling agent drops the stream (Orleans' diagnostic event, for this stream).
        await dropped.Task.WaitAsync(TimeSpan.FromSeconds(30));

        var second = await agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, new Uri(gateway.BaseAddress, "/demo/products/toaster.html").AbsoluteUri);
        var arrived = await navigations.WaitAsync(n => n.Seq == second.Seq);
        Assert.EndsWith("/demo/products/toaster.html", arrived.Url);
    }

    private sealed class Observer(Action<StreamingEvents.StreamingEvent> onNext) : IObserver<StreamingEvents.StreamingEvent>
    {
        public void OnNext(StreamingEvents.StreamingEvent value) => onNext(value);

        public void OnError(Exception error)
        {
        }

        public void OnCompleted()
        {
        }
    }
}
