using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Tests;

/// <summary>Outside business hours or with nobody available, a queue says so instead of queueing forever.</summary>
[Collection(ClusterCollection.Name)]
public sealed class OfflineTests(ClusterFixture fixture)
{
    private readonly IClusterClient _client = fixture.Client;

    private Task<StartChatResult> StartAsync(string site) =>
        _client.GetGrain<ICustomerGrain>(Guid.NewGuid()).StartAsync(
            new ChatRequest(site, "sales", "Dana", null, null, "https://shop.example/", null, null, false, null),
            _client.CreateObjectReference<IGatewayObserver>(new RecordingGateway()), "conn-1");

    [Fact]
    public async Task AQueueWithNoAvailableAgentRefusesNewChatsUntilOneIsAvailable()
    {
        // The fixture turns the offline rule on for site "offline".
        var queue = _client.GetGrain<IQueueGrain>("offline/sales");
        var availability = await queue.GetAvailabilityAsync();
        Assert.Equal((false, "no_agents"), (availability.Open, availability.Reason));
        var refused = await Assert.ThrowsAsync<SupportGridException>(() => StartAsync("offline"));
        Assert.Equal(ErrorCodes.Offline, refused.Code);
        Assert.Contains("Leave a message", refused.Message);
        Assert.Empty((await queue.GetSnapshotAsync()).Waiting);

        var agent = _client.GetGrain<IAgentGrain>("offline-agent");
        await agent.ConnectAsync("c", new AgentProfile("offline-agent", "Ola", 1, ["offline/sales"]),
            _client.CreateObjectReference<IGatewayObserver>(new RecordingGateway()));
        await agent.SetStatusAsync(AgentStatus.Available);

        Assert.True((await queue.GetAvailabilityAsync()).Open);
        Assert.Equal(1, (await StartAsync("offline")).Position);
        await agent.SetStatusAsync(AgentStatus.Away);
        Assert.Equal("no_agents", (await queue.GetAvailabilityAsync()).Reason);
    }

    [Fact]
    public async Task OutsideBusinessHoursTheQueueIsClosedAndSaysWhen()
    {
        // Site "closed" opens one minute a week (Monday 00:00 UTC).
        var availability = await _client.GetGrain<IQueueGrain>("closed/sales").GetAvailabilityAsync();
        var mondayMidnight = DateTime.UtcNow is { DayOfWeek: DayOfWeek.Monday, Hour: 0, Minute: 0 };
        Assert.Equal(!mondayMidnight, !availability.Open);
        if (!availability.Open)
            Assert.Equal(("closed", true), (availability.Reason, availability.Message.Contains("Mon 00:00-00:01 (UTC)")));
    }

    [Fact]
    public void BusinessHoursFollowTheSitesTimeZoneDaysAndClosedDates()
    {
        var hours = new BusinessHours
        {
            TimeZone = "America/New_York",
            Weekly = new() { ["Mon"] = "09:00-17:30", ["Sat"] = "10:00-14:00" },
            Closed = ["2026-12-28"],
        };
        // 2026-11-30 is a Monday; New York is UTC-5 then.
        Assert.True(hours.IsOpen(new DateTimeOffset(2026, 11, 30, 14, 0, 0, TimeSpan.Zero)));   // 09:00 local
        Assert.False(hours.IsOpen(new DateTimeOffset(2026, 11, 30, 13, 59, 0, TimeSpan.Zero)));  // 08:59 local
        Assert.False(hours.IsOpen(new DateTimeOffset(2026, 11, 30, 22, 30, 0, TimeSpan.Zero)));  // 17:30 local: closing time
        Assert.False(hours.IsOpen(new DateTimeOffset(2026, 12, 1, 15, 0, 0, TimeSpan.Zero)));    // Tuesday: no hours
        Assert.True(hours.IsOpen(new DateTimeOffset(2026, 12, 5, 16, 0, 0, TimeSpan.Zero)));     // Saturday 11:00 local
        Assert.False(hours.IsOpen(new DateTimeOffset(2026, 12, 28, 15, 0, 0, TimeSpan.Zero)));   // a Monday, but closed
        Assert.Throws<FormatException>(() => new BusinessHours { Weekly = new() { ["Mon"] = "17:00-09:00" } }.Validate());
        Assert.Throws<FormatException>(() => new BusinessHours { Weekly = new() { ["Funday"] = "09:00-17:00" } }.Validate());
        Assert.Throws<TimeZoneNotFoundException>(() => new BusinessHours { TimeZone = "Mars/Olympus" }.Validate());
    }
}
