using System.Collections.Concurrent;
using System.Threading.RateLimiting;
using Microsoft.Extensions.Options;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// The per-address limits an attacker could multiply by spreading over gateways: new chats per minute
/// (<see cref="SecurityOptions.ChatsPerAddressPerMinute"/>) and open hub connections
/// (<see cref="SecurityOptions.ConnectionsPerAddress"/>). Standalone, this gateway's own counts
/// (<see cref="LocalAddressLimits"/>); in cluster mode with Redis, counts shared by every gateway
/// (<see cref="RedisAddressLimits"/>). The hot per-call token buckets stay in <see cref="HubAbuseFilter"/>, per gateway.
/// </summary>
public interface IAddressLimits
{
    /// <summary>Takes one of the address's new chats; false when it has used <see cref="SecurityOptions.ChatsPerAddressPerMinute"/>.</summary>
    ValueTask<bool> TryOpenChatAsync(string address);

    /// <summary>Counts a new hub connection of the address; false (and not counted) when it already holds
    /// <see cref="SecurityOptions.ConnectionsPerAddress"/>.</summary>
    ValueTask<bool> TryConnectAsync(string address);

    /// <summary>Forgets a connection that <see cref="TryConnectAsync"/> counted.</summary>
    void Disconnect(string address);

    /// <summary>Open hub connections of the address on this gateway (the cheap early check before an upgrade).</summary>
    int ConnectionsOf(string address);
}

/// <summary>
/// This gateway's own per-address counts: a token bucket of new chats per address (refilled over a minute) and open hub
/// connections per address. The limits of a standalone gateway, and what a cluster gateway falls back to while Redis
/// does not answer.
/// </summary>
public sealed class LocalAddressLimits : IAddressLimits, IDisposable
{
    private readonly SecurityOptions _options;
    private readonly PartitionedRateLimiter<string> _chats;
    private readonly ConcurrentDictionary<string, int> _connections = new();

    public LocalAddressLimits(IOptions<SecurityOptions> options)
    {
        _options = options.Value;
        var chats = new TokenBucketRateLimiterOptions
        {
            TokenLimit = _options.ChatsPerAddressPerMinute,
            TokensPerPeriod = _options.ChatsPerAddressPerMinute,
            ReplenishmentPeriod = TimeSpan.FromMinutes(1),
            AutoReplenishment = true,
            QueueLimit = 0,
        };
        Func<string, TokenBucketRateLimiterOptions> optionsOf = _ => chats;
        _chats = PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, optionsOf));
    }

    /// <summary>Addresses with open connections here and how many each holds.</summary>
    public IEnumerable<KeyValuePair<string, int>> Connections => _connections;

    public bool TryOpenChat(string address)
    {
        using var lease = _chats.AttemptAcquire(address);
        return lease.IsAcquired;
    }

    /// <summary>Counts a connection whatever the limit; returns the address's count here with it.</summary>
    public int Connect(string address) => _connections.AddOrUpdate(address, 1, (_, n) => n + 1);

    /// <summary>Forgets a counted connection; returns the address's count here without it.</summary>
    public int Release(string address)
    {
        while (true)
        {
            if (!_connections.TryGetValue(address, out var n))
                return 0;
            if (n <= 1 ? _connections.TryRemove(KeyValuePair.Create(address, n)) : _connections.TryUpdate(address, n - 1, n))
                return n - 1;
        }
    }

    public ValueTask<bool> TryOpenChatAsync(string address) => ValueTask.FromResult(TryOpenChat(address));

    public ValueTask<bool> TryConnectAsync(string address)
    {
        if (Connect(address) <= _options.ConnectionsPerAddress)
            return ValueTask.FromResult(true);
        Release(address);
        return ValueTask.FromResult(false);
    }

    public void Disconnect(string address) => Release(address);

    public int ConnectionsOf(string address) => _connections.TryGetValue(address, out var n) ? n : 0;

    public void Dispose() => _chats.Dispose();
}
