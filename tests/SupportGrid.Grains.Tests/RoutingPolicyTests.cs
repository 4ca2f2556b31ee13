using Microsoft.Extensions.Time.Testing;
using SupportGrid.GrainInterfaces;
using SupportGrid.Grains.Routing;

namespace SupportGrid.Grains.Tests;

/// <summary>The routing policies and the serving order as plain classes.</summary>
public sealed class RoutingPolicyTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 26, 9, 0, 0, TimeSpan.Zero));
    private static readonly IReadOnlyDictionary<string, int> NoSkills = new Dictionary<string, int>();

    private QueueEntry Customer(string name = "Dana", string? tier = null, TimeSpan? waitedAlready = null) => new(
        Guid.NewGuid(), new CustomerInfo(name, null, null, null, null, tier is not null, tier), "https://shop.example/", null,
        _time.GetUtcNow() - (waitedAlready ?? TimeSpan.Zero));

    private AgentCandidate Agent(string id, int free = 3, int capacity = 3, TimeSpan? idleFor = null, Dictionary<string, int>? skills = null) =>
        new(id, free, capacity, _time.GetUtcNow() - (idleFor ?? TimeSpan.Zero), skills ?? NoSkills);

    [Fact]
    public void LongestIdleOffersToTheAgentIdleLongestAndBreaksTiesByName()
    {
        var policy = LongestIdlePolicy.Instance;
        Assert.Equal("b", policy.Choose(Customer(), [Agent("a", idleFor: TimeSpan.FromMinutes(1)), Agent("b", idleFor: TimeSpan.FromMinutes(5))], _time.GetUtcNow()));
        Assert.Equal("a", policy.Choose(Customer(), [Agent("b", idleFor: TimeSpan.FromMinutes(2)), Agent("a", idleFor: TimeSpan.FromMinutes(2))], _time.GetUtcNow()));
        Assert.Null(policy.Choose(Customer(), [], _time.GetUtcNow()));
    }

    [Fact]
    public void LeastBusyOffersToTheAgentWithTheLowestShareOfCapacityInUse()
    {
        var policy = LeastBusyPolicy.Instance;
        var busy = Agent("busy", free: 1, capacity: 3, idleFor: TimeSpan.FromHours(1));   // 2 of 3 in use
        var light = Agent("light", free: 3, capacity: 5, idleFor: TimeSpan.FromSeconds(1)); // 2 of 5 in use
        Assert.Equal("light", policy.Choose(Customer(), [busy, light], _time.GetUtcNow()));
        var lightToo = Agent("light-too", free: 3, capacity: 5, idleFor: TimeSpan.FromMinutes(3));
        Assert.Equal("light-too", policy.Choose(Customer(), [busy, light, lightToo], _time.GetUtcNow()));
    }

    [Fact]
    public void SkillsRoutingWidensToLowerLevelsOnlyAfterTheRelaxationWait()
    {
        var policy = new SkillsPolicy(new QueueRouting
        {
            Policy = RoutingPolicies.Skills,
            RequiredSkills = new() { ["printers"] = 3, ["french"] = 2 },
            RelaxAfter = TimeSpan.FromSeconds(30),
            RelaxedLevel = 1,
        });
        var novice = Agent("novice", idleFor: TimeSpan.FromHours(1), skills: new() { ["printers"] = 1, ["french"] = 1 });
        var monolingual = Agent("monolingual", idleFor: TimeSpan.FromHours(2), skills: new() { ["printers"] = 5 });
        var expert = Agent("expert", skills: new() { ["printers"] = 4, ["french"] = 2 });
        var master = Agent("master", skills: new() { ["printers"] = 5, ["french"] = 3 });

        Assert.Null(policy.Choose(Customer(), [novice, monolingual], _time.GetUtcNow()));
        Assert.Equal("master", policy.Choose(Customer(), [novice, expert, master], _time.GetUtcNow()));
        var longWaiter = Customer(waitedAlready: TimeSpan.FromSeconds(31));
        Assert.Equal("novice", policy.Choose(longWaiter, [novice, monolingual], _time.GetUtcNow()));
        _time.Advance(TimeSpan.FromSeconds(30));
        Assert.Equal("novice", policy.Choose(Customer(waitedAlready: TimeSpan.Zero) with { EnqueuedAt = _time.GetUtcNow() - TimeSpan.FromSeconds(30) }, [novice], _time.GetUtcNow()));
    }

    [Fact]
    public void HigherPriorityIsServedFirstAndWithinAPriorityTheOldestRequest()
    {
        var order = new WaitingOrder(e => e.Customer.Tier == "vip" ? 10 : 0);
        var old = Customer("old", waitedAlready: TimeSpan.FromMinutes(10));
        var recent = Customer("recent", waitedAlready: TimeSpan.FromMinutes(1));
        var vip = Customer("vip", tier: "vip");
        var olderVip = Customer("older vip", tier: "vip", waitedAlready: TimeSpan.FromMinutes(2));
        var waiting = new List<QueueEntry>();
        foreach (var entry in new[] { recent, vip, old, olderVip })
            waiting.Insert(order.InsertionIndex(waiting, entry), entry);

        Assert.Equal(["older vip", "vip", "old", "recent"], waiting.Select(e => e.Customer.Name));
    }

    [Fact]
    public void AnUnknownPolicyNameIsRefusedWithTheChoices()
    {
        var error = Assert.Throws<InvalidOperationException>(() => new QueueRouting { Policy = "round-robin" }.CreatePolicy());
        Assert.Contains("longest-idle, least-busy or skills", error.Message);
    }
}
