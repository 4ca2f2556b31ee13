using Microsoft.Extensions.Options;
using StackExchange.Redis;
using SupportGrid.Silo;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// The Redis connection that a cluster gateway's shared limits (<see cref="RedisAddressLimits"/>,
/// <see cref="Auth.RedisSignInThrottle"/>) use, and whether they may use it now: after any failure or a wait past
/// <see cref="SharedLimitsOptions.Timeout"/>, every shared limit of this gateway decides alone for
/// <see cref="SharedLimitsOptions.RetryAfter"/>, and that is logged (sampled), as is Redis answering again.
/// </summary>
public sealed partial class SharedLimitsRedis : IDisposable
{
    private readonly ILogger<SharedLimitsRedis> _logger;
    private readonly Lazy<Task<ConnectionMultiplexer>> _redis;
    private readonly LogSampler _failureLog = new(TimeSpan.FromSeconds(10));
    private long _askAgainAt;
    private int _alone;

    public SharedLimitsRedis(IOptions<SharedLimitsOptions> options, IConfiguration configuration, ILogger<SharedLimitsRedis> logger)
    {
        Options = options.Value;
        _logger = logger;
        var cluster = ClusterModeOptions.From(configuration);
        var connectionString = string.IsNullOrWhiteSpace(Options.Redis) ? cluster.Redis : Options.Redis;
        if (string.IsNullOrWhiteSpace(connectionString))
            throw new InvalidOperationException($"Shared limits need a Redis: {SharedLimitsOptions.Section}:Redis or SupportGrid:Cluster:Redis.");
        var redis = ConfigurationOptions.Parse(connectionString);
        redis.AbortOnConnectFail = false; // keep trying in the background; decide alone meanwhile
        redis.BacklogPolicy = BacklogPolicy.FailFast; // while disconnected a call fails at once rather than queue
        redis.AsyncTimeout = redis.SyncTimeout = (int)Options.Timeout.TotalMilliseconds;
        _redis = new(() => ConnectionMultiplexer.ConnectAsync(redis));
        // Beside Orleans' keys of this service (which the cluster tests' clean-up removes too).
        Prefix = cluster.ServiceId + "/limits/";
    }

    /// <summary>The shared limits' settings.</summary>
    public SharedLimitsOptions Options { get; }

    /// <summary>What every key of the shared limits starts with (this service's).</summary>
    public string Prefix { get; }

    /// <summary>The connection, made on the first call; unreachable, it keeps trying in the background.</summary>
    public Task<ConnectionMultiplexer> ConnectAsync(CancellationToken cancellationToken) => _redis.Value.WaitAsync(cancellationToken);

    /// <summary>The database to ask, or null while this gateway decides alone (after a failure, for
    /// <see cref="SharedLimitsOptions.RetryAfter"/>). Throws when Redis is not there: hand whatever it throws
    /// to <see cref="Failed"/>.</summary>
    public async ValueTask<IDatabase?> DatabaseAsync()
    {
        if (Environment.TickCount64 < Volatile.Read(ref _askAgainAt))
            return null;
        var redis = await _redis.Value.WaitAsync(Options.Timeout);
        if (!redis.IsConnected)
            throw new RedisConnectionException(ConnectionFailureType.UnableToConnect, "Not connected to Redis.");
        return redis.GetDatabase();
    }

    /// <summary>The connection if it is up and this gateway does not decide alone now, else null (for fire-and-forget writes).</summary>
    public ConnectionMultiplexer? Connected() =>
        Environment.TickCount64 >= Volatile.Read(ref _askAgainAt) && _redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully
            && _redis.Value.Result.IsConnected
            ? _redis.Value.Result
            : null;

    /// <summary>
    /// Redis failed or was slow: decide alone for <see cref="SharedLimitsOptions.RetryAfter"/>, and say so (the log has the
    /// exception's type and message). Callers hand over whatever a Redis call threw, not only <see cref="RedisException"/>
    /// and <see cref="TimeoutException"/>: the shared limits refine what each gateway counts anyway, and a shopper's
    /// request must not fail for them. StackExchange.Redis was seen in CI to throw <see cref="TaskCanceledException"/> from
    /// <c>ScriptEvaluateAsync</c> and <see cref="InvalidOperationException"/> ("Reading is not allowed after reader was
    /// completed") from inside its connection on a busy machine: the first answered a sign-in with 500, the second
    /// closed a shopper's hub connection.
    /// </summary>
    public void Failed(Exception e)
    {
        Volatile.Write(ref _askAgainAt, Environment.TickCount64 + (long)Options.RetryAfter.TotalMilliseconds);
        Interlocked.Exchange(ref _alone, 1);
        if (_failureLog.ShouldLog("redis", out var suppressed))
            LogAlone(_logger, e.GetType().Name, e.Message, Options.RetryAfter, suppressed);
    }

    /// <summary>Redis answered: if this gateway was deciding alone, it says it counts with the others again.</summary>
    public void Answered()
    {
        if (Interlocked.Exchange(ref _alone, 0) == 1)
            LogSharingAgain(_logger);
    }

    public void Dispose()
    {
        if (_redis.IsValueCreated && _redis.Value.IsCompletedSuccessfully)
            _redis.Value.Result.Dispose();
    }

    [LoggerMessage(EventId = 8009, Level = LogLevel.Warning, Message = "Shared per-address limits unavailable ({Error}: {Detail}); this gateway applies its own counts (connections, new chats, sign-in failures) and asks Redis again in {RetryAfter}; {Suppressed} more failures since the last such line")]
    private static partial void LogAlone(ILogger logger, string error, string detail, TimeSpan retryAfter, int suppressed);

    [LoggerMessage(EventId = 8010, Level = LogLevel.Information, Message = "Shared per-address limits answer again; this gateway counts with the others")]
    private static partial void LogSharingAgain(ILogger logger);
}
