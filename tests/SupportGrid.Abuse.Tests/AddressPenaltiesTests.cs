using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;
using SupportGrid.Gateway.Security;

namespace SupportGrid.Abuse.Tests;

/// <summary>The abuse cool-down of an address: how long, how it grows for a repeat offender, when it is forgotten.</summary>
public sealed class AddressPenaltiesTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 11, 27, 4, 0, 0, TimeSpan.Zero));

    private AddressPenalties Penalties() => new(Options.Create(new SecurityOptions
    {
        AbuseCooldown = TimeSpan.FromSeconds(10),
        AbuseCooldownMax = TimeSpan.FromMinutes(1),
    }), _time);

    [Fact]
    public void AFirstOffenceCoolsDownForTheBaseTimeAndOnlyThatAddress()
    {
        var penalties = Penalties();
        Assert.Equal(TimeSpan.FromSeconds(10), penalties.Punish("198.51.100.1"));

        Assert.True(penalties.IsCoolingDown("198.51.100.1", out var left));
        Assert.Equal(TimeSpan.FromSeconds(10), left);
        Assert.False(penalties.IsCoolingDown("198.51.100.2", out _));
        _time.Advance(TimeSpan.FromSeconds(9.9));
        Assert.True(penalties.IsCoolingDown("198.51.100.1", out left));
        Assert.Equal(TimeSpan.FromSeconds(0.1), left);
        _time.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(penalties.IsCoolingDown("198.51.100.1", out _));
    }

    [Fact]
    public void ARepeatOffenderWaitsTwiceAsLongEachTimeUpToTheMaximum()
    {
        var penalties = Penalties();
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var wait = penalties.Punish("198.51.100.1");
            waits.Add(wait);
            _time.Advance(wait); // back at once after each cool-down
        }
        Assert.Equal([10, 20, 40, 60, 60], waits.Select(w => (int)w.TotalSeconds));
    }

    [Fact]
    public void StrikesAreForgottenAfterTheMaximumWithoutOffenceAndExpiredEntriesAreSwept()
    {
        var penalties = Penalties();
        penalties.Punish("198.51.100.1");
        penalties.Punish("198.51.100.1"); // 20 s
        _time.Advance(TimeSpan.FromSeconds(20) + TimeSpan.FromMinutes(1));
        Assert.Equal(TimeSpan.FromSeconds(10), penalties.Punish("198.51.100.1")); // a first offence again

        // An attacker cycling through addresses: entries older than their cool-down plus the maximum go as new ones come.
        for (var i = 0; i < 300; i++)
            penalties.Punish($"203.0.113.{i % 250}-{i}");
        _time.Advance(TimeSpan.FromMinutes(3));
        for (var i = 0; i < 256; i++)
            penalties.Punish($"192.0.2.{i}");
        Assert.InRange(penalties.Count, 256, 300);
    }
}
