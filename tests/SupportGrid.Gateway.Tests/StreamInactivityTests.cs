using System.Diagnostics.Metrics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Orleans.Configuration;
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

        var page = new Uri(gateway.BaseAddress, "/demo/products/kettle.html").AbsoluteUri;
        var first = await agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, page);
        await navigations.WaitAsync(n => n.Seq == first.Seq);

        // The chat goes quiet for ten periods. The pulling agent drops streams idle for a period when it cleans its
        // table, every tenth of a period, on a read; reads come back at least every long poll (0.5 s).
        await Task.Delay(Period * 10);

        // The stream registers again as the second navigation goes out: Orleans counts a producer added to pub-sub (other
        // tests running beside this one in the process may add to the count, never take from it).
        var registered = 0;
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (instrument.Name == "orleans-streams-pubsub-producers-added")
                    l.EnableMeasurementEvents(instrument);
            },
        };
        listener.SetMeasurementEventCallback<int>((_, value, _, _) => Interlocked.Add(ref registered, value));
        listener.SetMeasurementEventCallback<long>((_, value, _, _) => Interlocked.Add(ref registered, (int)value));
        listener.Start();
        var second = await agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, new Uri(gateway.BaseAddress, "/demo/products/toaster.html").AbsoluteUri);
        var arrived = await navigations.WaitAsync(n => n.Seq == second.Seq);
        Assert.EndsWith("/demo/products/toaster.html", arrived.Url);
        Assert.True(Volatile.Read(ref registered) > 0, "the channel's stream was not registered again: it was never dropped");
    }
}
