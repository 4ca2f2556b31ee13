using Microsoft.Extensions.Options;
using StackExchange.Redis;

namespace SupportGrid.Gateway.Security;

/*
 * Per-address limits shared by every gateway of a cluster, so that an attacker spread over G gateways by the load
 * balancer gets the limit once, not G times.
 *
 * New chats: one counter per address in Redis, INCR and, on the first chat, PEXPIRE one minute, in one script: a fixed
 * window that starts at the address's first new chat (no clock alignment, so no gateway's clock matters).
 *
 * Connections: one hash per address; each gateway writes its own field (its count of that address's connections, the
 * absolute value, never an increment) and beside it until when that count holds (Redis' own clock, TIME). A connect
 * runs one script that sums the other gateways' live fields, drops expired ones, adds this gateway's count and either
 * refuses (writes nothing) or writes this gateway's field. A disconnect writes the new count (fire-and-forget); every
 * third of ConnectionCountLifetime the gateway rewrites all its counts. A gateway that dies stops rewriting, and its
 * counts stop counting after at most ConnectionCountLifetime; the key itself expires when no gateway writes it.
 *
 * Redis is not allowed to take the shop down: any failure or a wait past Timeout, and this gateway decides alone with
 * its own counts (LocalAddressLimits, which it keeps anyway) for RetryAfter, logging that it does.
 */

/// <summary>
/// <see cref="IAddressLimits"/> shared through Redis by all the gateways of a cluster (the hot per-call buckets stay
/// per gateway). Falls back to this gateway's own counts, and logs, while Redis fails or is slow.
/// </summary>
public sealed partial class RedisAddressLimits : BackgroundService, IAddressLimits
{
    // KEYS[1] the address's chats; ARGV window ms. Returns the count with this chat. (PTTL: never a counter without expiry.)
    private const string ChatScript = """
        local n = redis.call('INCR', KEYS[1])
        if n == 1 or redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
        return n
        """;

    // KEYS[1] connections hash; ARGV gateway id, this gateway's count with the new connection, limit, lifetime ms.
    // Returns the address's total with the new connection, negated when that is over the limit (then nothing is written).
    private const string ConnectScript = """
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        local me = ARGV[1]
        local total = tonumber(ARGV[2])
        local flat = redis.call('HGETALL', KEYS[1])
        local fields = {}
        for i = 1, #flat, 2 do fields[flat[i]] = flat[i + 1] end
        for field, value in pairs(fields) do
          if field ~= me and string.sub(field, -6) ~= ':until' then
            if tonumber(fields[field .. ':until'] or '0') > now then
              total = total + tonumber(value)
            else
              redis.call('HDEL', KEYS[1], field, field .. ':until')
            end
          end
        end
        if total > tonumber(ARGV[3]) then return -total end
        redis.call('HSET', KEYS[1], me, ARGV[2], me .. ':until', now + tonumber(ARGV[4]))
        redis.call('PEXPIRE', KEYS[1], ARGV[4])
        return total
        """;

    // KEYS[1] connections hash; ARGV gateway id, this gateway's count, lifetime ms. Writes (or, at 0, removes) its field.
    private const string SetScript = """
        if tonumber(ARGV[2]) <= 0 then
          redis.call('HDEL', KEYS[1], ARGV[1], ARGV[1] .. ':until')
          return 0
        end
        local t = redis.call('TIME')
        local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
        redis.call('HSET', KEYS[1], ARGV[1], ARGV[2], ARGV[1] .. ':until', now + tonumber(ARGV[3]))
        redis.call('PEXPIRE', KEYS[1], ARGV[3])
        return 1
        """;

    private static readonly long ChatWindowMs = (long)TimeSpan.FromMinutes(1).TotalMilliseconds;

    private readonly LocalAddressLimits _local;
    private readonly SecurityOptions _limits;
    private readonly SharedLimitsRedis _shared;
    private readonly ILogger<RedisAddressLimits> _logger;
    private readonly string _prefix;

    public RedisAddressLimits(LocalAddressLimits local, IOptions<SecurityOptions> limits, SharedLimitsRedis shared,
        ILogger<RedisAddressLimits> logger)
    {
        _local = local;
        _limits = limits.Value;
        _shared = shared;
        _logger = logger;
        _prefix = shared.Prefix;
    }

    /// <summary>This gateway's name in the shared connection counts (a fresh one per process).</summary>
    public string GatewayId { get; } = Guid.NewGuid().ToString("N")[..12];

    public async ValueTask<bool> TryOpenChatAsync(string address)
    {
        try
        {
            if (await _shared.DatabaseAsync() is { } db)
            {
                var count = (long)await db.ScriptEvaluateAsync(ChatScript, [_prefix + "chats/" + address], [ChatWindowMs]);
                _shared.Answered();
                return count <= _limits.ChatsPerAddressPerMinute;
            }
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            _shared.Failed(e);
        }
        return _local.TryOpenChat(address);
    }

    public async ValueTask<bool> TryConnectAsync(string address)
    {
        var mine = _local.Connect(address);
        if (mine > _limits.ConnectionsPerAddress)
        {
            _local.Release(address); // over the limit here alone: no need to ask
            return false;
        }
        try
        {
            if (await _shared.DatabaseAsync() is { } db)
            {
                var total = (long)await db.ScriptEvaluateAsync(ConnectScript, [_prefix + "connections/" + address],
                    [GatewayId, mine, _limits.ConnectionsPerAddress, LifetimeMs]);
                _shared.Answered();
                if (total > 0)
                    return true;
                _local.Release(address);
                return false;
            }
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            _shared.Failed(e);
        }
        return true; // within the limit here
    }

    public void Disconnect(string address)
    {
        var mine = _local.Release(address);
        if (_shared.Connected() is { } redis)
            Write(redis.GetDatabase(), address, mine);
    }

    public int ConnectionsOf(string address) => _local.ConnectionsOf(address);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            // Connect early, not on the first shopper's call. Unreachable, it keeps trying in the background.
            if ((await _shared.ConnectAsync(stoppingToken)).IsConnected)
                LogSharing(_logger, GatewayId);
            using var timer = new PeriodicTimer(_shared.Options.ConnectionCountLifetime / 3);
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                // Rewrites every count this gateway holds: keeps them alive, and repairs any write lost while Redis failed.
                if (_shared.Connected() is not { } redis)
                    continue;
                var db = redis.GetDatabase();
                foreach (var (address, mine) in _local.Connections)
                    Write(db, address, mine);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            _shared.Failed(e); // no rewrites; the calls fall back to this gateway's counts (a stopped host would refuse everyone)
        }
    }

    private long LifetimeMs => (long)_shared.Options.ConnectionCountLifetime.TotalMilliseconds;

    private void Write(IDatabase db, string address, int mine)
    {
        try
        {
            db.ScriptEvaluate(SetScript, [_prefix + "connections/" + address], [GatewayId, mine, LifetimeMs], CommandFlags.FireAndForget);
        }
        catch (Exception e) // whatever the Redis client throws (see SharedLimitsRedis.Failed)
        {
            _shared.Failed(e); // the next rewrite repairs it
        }
    }

    [LoggerMessage(EventId = 8008, Level = LogLevel.Information, Message = "Per-address limits are shared with the other gateways through Redis (this gateway: {GatewayId})")]
    private static partial void LogSharing(ILogger logger, string gatewayId);
}
