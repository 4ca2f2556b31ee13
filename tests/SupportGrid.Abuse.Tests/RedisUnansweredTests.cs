using StackExchange.Redis;
using SupportGrid.Gateway.Security;

namespace SupportGrid.Abuse.Tests;

/// <summary>
/// What the shared limits and the sign-in throttle count as "Redis did not answer" (they then decide alone instead of
/// failing the request). A cancelled task is one: StackExchange.Redis cancels a command it gives up on, and a sign-in in
/// a CI run answered 500 with <c>TaskCanceledException</c> from <c>ScriptEvaluateAsync</c> before this was recognised.
/// Redis being unreachable end to end is <c>SharedLimitTests.WithoutRedisForTheLimitsEachGatewayAppliesItsOwnAndSaysSo</c>.
/// </summary>
public sealed class RedisUnansweredTests
{
    [Fact]
    public void ACancelledRedisCommandATimeoutAndARedisErrorAllMeanNoAnswer()
    {
        Assert.True(SharedLimitsRedis.IsUnanswered(new TaskCanceledException()));
        Assert.True(SharedLimitsRedis.IsUnanswered(new OperationCanceledException()));
        Assert.True(SharedLimitsRedis.IsUnanswered(new TimeoutException()));
        Assert.True(SharedLimitsRedis.IsUnanswered(new RedisConnectionException(ConnectionFailureType.UnableToConnect, "down")));
    }

    [Fact]
    public void AnErrorOfOurOwnIsNotTakenForRedisBeingAway()
    {
        Assert.False(SharedLimitsRedis.IsUnanswered(new InvalidOperationException()));
        Assert.False(SharedLimitsRedis.IsUnanswered(new ArgumentException()));
    }
}
