using System.Collections.Concurrent;
using Microsoft.Extensions.Options;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Addresses that were disconnected for abuse (<see cref="SecurityOptions.RefusalsBeforeDisconnect"/> refused calls in a
/// row) may not open hub connections for a while: <see cref="SecurityOptions.AbuseCooldown"/> the first time, doubling
/// with each repeat within <see cref="SecurityOptions.AbuseCooldownMax"/>, up to that. Without it a flooder that is
/// disconnected reconnects at once, with a fresh per-connection bucket, and every reconnect costs a WebSocket upgrade and
/// a handshake; with it the reconnects are refused before the upgrade (<see cref="ConnectionGateMiddleware"/>).
/// </summary>
/// <remarks>In memory, per gateway process. Expired entries are swept as new ones come, so an attacker cycling through
/// addresses leaves at most the entries of the last <see cref="SecurityOptions.AbuseCooldownMax"/>.</remarks>
public sealed class AddressPenalties(IOptions<SecurityOptions> options, TimeProvider time)
{
    private sealed record Penalty(DateTimeOffset Until, int Strikes, DateTimeOffset Forget);

    private readonly ConcurrentDictionary<string, Penalty> _penalties = new();
    private readonly SecurityOptions _options = options.Value;
    private int _sinceSweep;

    /// <summary>Entries held (expired ones included until the next sweep).</summary>
    public int Count => _penalties.Count;

    /// <summary>Starts or lengthens the address's cool-down; returns how long it lasts.</summary>
    public TimeSpan Punish(string address)
    {
        var now = time.GetUtcNow();
        var penalty = _penalties.AddOrUpdate(address,
            _ => New(now, 1),
            (_, old) => New(now, old.Forget > now ? old.Strikes + 1 : 1));
        if (Interlocked.Increment(ref _sinceSweep) >= 256)
            Sweep(now);
        return penalty.Until - now;
    }

    /// <summary>True while the address may not connect; <paramref name="left"/> is the time until it may.</summary>
    public bool IsCoolingDown(string address, out TimeSpan left)
    {
        left = TimeSpan.Zero;
        if (!_penalties.TryGetValue(address, out var penalty))
            return false;
        left = penalty.Until - time.GetUtcNow();
        return left > TimeSpan.Zero;
    }

    private Penalty New(DateTimeOffset now, int strikes)
    {
        var ticks = Math.Min(_options.AbuseCooldown.Ticks * (1L << Math.Min(strikes - 1, 30)), _options.AbuseCooldownMax.Ticks);
        // Strikes are remembered for AbuseCooldownMax after the cool-down ends: a repeat offender waits longer each time.
        return new Penalty(now + TimeSpan.FromTicks(ticks), strikes, now + TimeSpan.FromTicks(ticks) + _options.AbuseCooldownMax);
    }

    private void Sweep(DateTimeOffset now)
    {
        Interlocked.Exchange(ref _sinceSweep, 0);
        foreach (var (address, penalty) in _penalties)
        {
            if (penalty.Forget <= now)
                _penalties.TryRemove(KeyValuePair.Create(address, penalty));
        }
    }
}
