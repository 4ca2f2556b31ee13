using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Security;

namespace SupportGrid.Gateway.Auth;

/// <summary>
/// Slows down and then locks repeated failed agent sign-ins, per username and per address: after
/// <see cref="SecurityOptions.SignInFailuresBeforeDelay"/> failures for a username each further try must wait (1 s, then
/// doubling); after <see cref="SecurityOptions.SignInFailuresBeforeLock"/> the username is locked for
/// <see cref="SecurityOptions.SignInLockout"/>, and an address with <see cref="SecurityOptions.SignInFailuresPerAddressBeforeLock"/>
/// failures (any usernames) likewise. A success clears the username's failures. Standalone, this gateway's own counts
/// (<see cref="LocalSignInThrottle"/>); in cluster mode with Redis, counts shared by every gateway (<see cref="RedisSignInThrottle"/>).
/// </summary>
public interface ISignInThrottle
{
    /// <summary>How long the caller must wait before this sign-in may be tried, or null when it may be tried now.</summary>
    ValueTask<TimeSpan?> RetryAfterAsync(string username, string? address);

    /// <summary>Counts a failed sign-in for the username and the address.</summary>
    ValueTask FailedAsync(string username, string? address);

    /// <summary>Clears the username's failures (not the address's).</summary>
    ValueTask SucceededAsync(string username);
}

/// <summary>
/// This gateway's own sign-in failures, per username and per address (see <see cref="ISignInThrottle"/>). The throttle of
/// a standalone gateway, and what a cluster gateway falls back to while Redis does not answer.
/// </summary>
public sealed class LocalSignInThrottle(IOptions<SecurityOptions> options, TimeProvider time) : ISignInThrottle
{
    private const int MaxEntries = 100_000;
    private readonly SecurityOptions _options = options.Value;
    private readonly ConcurrentDictionary<string, Entry> _entries = new();

    /// <summary>How long the caller must wait before this sign-in may be tried, or null when it may be tried now.</summary>
    public TimeSpan? RetryAfter(string username, string? address)
    {
        var now = time.GetUtcNow();
        var wait = TimeSpan.Zero;
        if (_entries.TryGetValue(UserKey(username), out var user))
        {
            lock (user)
            {
                if (user.LockedUntil > now)
                    wait = user.LockedUntil - now;
                else if (now - user.LastFailure < _options.SignInFailureWindow && user.Failures >= _options.SignInFailuresBeforeDelay)
                {
                    var delay = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, user.Failures - _options.SignInFailuresBeforeDelay), _options.SignInLockout.TotalSeconds));
                    if (user.LastFailure + delay > now)
                        wait = user.LastFailure + delay - now;
                }
            }
        }
        if (address is not null && _entries.TryGetValue(AddressKey(address), out var from))
        {
            lock (from)
            {
                if (from.LockedUntil > now && from.LockedUntil - now > wait)
                    wait = from.LockedUntil - now;
            }
        }
        return wait > TimeSpan.Zero ? wait : null;
    }

    public ValueTask<TimeSpan?> RetryAfterAsync(string username, string? address) => ValueTask.FromResult(RetryAfter(username, address));

    public ValueTask FailedAsync(string username, string? address)
    {
        Failed(username, address);
        return ValueTask.CompletedTask;
    }

    public ValueTask SucceededAsync(string username)
    {
        Succeeded(username);
        return ValueTask.CompletedTask;
    }

    /// <summary>Counts a failed sign-in for the username and the address.</summary>
    public void Failed(string username, string? address)
    {
        Prune();
        Count(UserKey(username), _options.SignInFailuresBeforeLock);
        if (address is not null)
            Count(AddressKey(address), _options.SignInFailuresPerAddressBeforeLock);
    }

    /// <summary>Clears the username's failures.</summary>
    public void Succeeded(string username) => _entries.TryRemove(UserKey(username), out _);

    private void Count(string key, int lockAfter)
    {
        var now = time.GetUtcNow();
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        lock (entry)
        {
            if (now - entry.LastFailure > _options.SignInFailureWindow && entry.LockedUntil <= now)
                entry.Failures = 0;
            entry.Failures++;
            entry.LastFailure = now;
            if (entry.Failures >= lockAfter)
                entry.LockedUntil = now + _options.SignInLockout;
        }
    }

    /// <summary>Forgets stale entries when there are many (failures for made-up usernames must not fill the memory).</summary>
    private void Prune()
    {
        if (_entries.Count < MaxEntries)
            return;
        var now = time.GetUtcNow();
        foreach (var (key, entry) in _entries)
        {
            if (entry.LockedUntil <= now && now - entry.LastFailure > _options.SignInFailureWindow)
                _entries.TryRemove(key, out _);
        }
    }

    private static string UserKey(string username) => "u:" + Username(username);

    /// <summary>The username as the throttle counts it: trimmed, lower case.</summary>
    public static string Username(string username) => username.Trim().ToLowerInvariant();

    private static string AddressKey(string address) => "a:" + address;

    private sealed class Entry
    {
        public int Failures;
        public DateTimeOffset LastFailure;
        public DateTimeOffset LockedUntil;
    }
}
