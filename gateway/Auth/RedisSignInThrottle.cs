using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using StackExchange.Redis;
using SupportGrid.Gateway.Security;

namespace SupportGrid.Gateway.Auth;

/*
 * Sign-in throttling shared by every gateway of a cluster, so that a password guesser whom the load balancer spreads over
 * G gateways gets SignInFailuresBeforeLock guesses in all, not G times as many.
 *
 * One hash per username and one per address: failures, the last failure and until when it is locked, in milliseconds of
 * Redis' own clock (TIME; no gateway's clock matters). A failure runs one script per key that applies the same rules as
 * LocalSignInThrottle (forget after SignInFailureWindow unless locked; lock for SignInLockout at the limit) and sets the
 * key to expire when it no longer matters (the window or the lock, whichever ends later), so nothing is left behind.
 * The check before a sign-in runs one script per key that turns the hash into a wait; a success deletes the username's
 * hash. The scripts are per key (no multi-key script), so they work on a Redis Cluster too; the two keys' scripts go out
 * together.
 *
 * Redis is not allowed to lock everyone out: any failure or a wait past Shared:Timeout, and this gateway decides alone
 * with its own counts (LocalSignInThrottle, which it keeps anyway: every failure is counted there too), logging that
 * it does (SharedLimitsRedis).
 */

/// <summary>
/// <see cref="ISignInThrottle"/> shared through Redis by all the gateways of a cluster: failures per username and per
/// address counted by all of them together, and a success clears the username's failures on all of them. Falls back to
/// this gateway's own counts, and logs, while Redis fails or is slow.
/// </summary>
public sealed class RedisSignInThrottle(LocalSignInThrottle local, IOptions<SecurityOptions> options, SharedLimitsRedis shared) : ISignInThrottle
{
    // KEYS[1] a username's or an address's failures; ARGV failures before the delay (0: no delay, for an address),
    // window ms, lockout ms. Returns how many ms the next try must wait (0: none).
    private const string WaitScript = """
        local v = redis.call('HMGET', KEYS[1], 'failures', 'last', 'locked')
        if not v[1] then return 0 end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local failures, last, locked = tonumber(v[1]), tonumber(v[2] or '0'), tonumber(v[3] or '0')
        if locked > now then return locked - now end
        local before = tonumber(ARGV[1])
        if before > 0 and now - last < tonumber(ARGV[2]) and failures >= before then
          local delay = math.min(2 ^ (failures - before) * 1000, tonumber(ARGV[3]))
          if last + delay > now then return math.ceil(last + delay - now) end
        end
        return 0
        """;

    // KEYS[1] a username's or an address's failures; ARGV failures before the lock, window ms, lockout ms.
    // Counts one failure; returns the failures counted.
    private const string FailScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local v = redis.call('HMGET', KEYS[1], 'failures', 'last', 'locked')
        local failures, last, locked = tonumber(v[1] or '0'), tonumber(v[2] or '0'), tonumber(v[3] or '0')
        local window = tonumber(ARGV[2])
        if now - last > window and locked <= now then failures = 0 end
        failures = failures + 1
        if failures >= tonumber(ARGV[1]) then locked = now + tonumber(ARGV[3]) end
        redis.call('HSET', KEYS[1], 'failures', failures, 'last', now, 'locked', locked)
        redis.call('PEXPIRE', KEYS[1], math.max(window, locked - now))
        return failures
        """;

    /// <summary>Usernames longer than this are hashed in the key (a made-up username must not make a huge key).</summary>
    private const int LongestKeyedUsername = 100;

    private readonly SecurityOptions _options = options.Value;
    private readonly long _windowMs = (long)options.Value.SignInFailureWindow.TotalMilliseconds;
    private readonly long _lockoutMs = (long)options.Value.SignInLockout.TotalMilliseconds;

    public async ValueTask<TimeSpan?> RetryAfterAsync(string username, string? address)
    {
        try
        {
            if (await shared.DatabaseAsync() is { } db)
            {
                var user = db.ScriptEvaluateAsync(WaitScript, [UserKey(username)], [_options.SignInFailuresBeforeDelay, _windowMs, _lockoutMs]);
                var from = address is null
                    ? Task.FromResult(RedisResult.Create(0))
                    : db.ScriptEvaluateAsync(WaitScript, [AddressKey(address)], [0, _windowMs, _lockoutMs]);
                await Task.WhenAll(user, from);
                var waitMs = Math.Max((long)user.Result, (long)from.Result);
                shared.Answered();
                return waitMs > 0 ? TimeSpan.FromMilliseconds(waitMs) : null;
            }
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            shared.Failed(e);
        }
        return local.RetryAfter(username, address);
    }

    public async ValueTask FailedAsync(string username, string? address)
    {
        local.Failed(username, address); // kept anyway, for when Redis does not answer
        try
        {
            if (await shared.DatabaseAsync() is { } db)
            {
                var user = db.ScriptEvaluateAsync(FailScript, [UserKey(username)], [_options.SignInFailuresBeforeLock, _windowMs, _lockoutMs]);
                var from = address is null
                    ? Task.FromResult(RedisResult.Create(0))
                    : db.ScriptEvaluateAsync(FailScript, [AddressKey(address)], [_options.SignInFailuresPerAddressBeforeLock, _windowMs, _lockoutMs]);
                await Task.WhenAll(user, from);
                shared.Answered();
            }
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            shared.Failed(e);
        }
    }

    public async ValueTask SucceededAsync(string username)
    {
        local.Succeeded(username);
        try
        {
            if (await shared.DatabaseAsync() is { } db)
            {
                await db.KeyDeleteAsync(UserKey(username));
                shared.Answered();
            }
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            shared.Failed(e);
        }
    }

    private string UserKey(string username)
    {
        var name = LocalSignInThrottle.Username(username);
        if (name.Length > LongestKeyedUsername)
            name = "#" + Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(name)));
        return shared.Prefix + "signin/user/" + name;
    }

    private string AddressKey(string address) => shared.Prefix + "signin/address/" + address;
}
