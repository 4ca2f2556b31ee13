namespace SupportGrid.Cluster.Tests;

/// <summary>The Redis and PostgreSQL servers that <c>test.sh</c> starts on 127.0.0.1 for these tests.</summary>
public static class TestStores
{
    public const string RedisVariable = "SUPPORTGRID_TEST_REDIS";
    public const string PostgresVariable = "SUPPORTGRID_TEST_POSTGRES";

    /// <summary>StackExchange.Redis connection string, e.g. <c>127.0.0.1:26379</c>.</summary>
    public static string Redis => Require(RedisVariable);

    /// <summary>Npgsql connection string of a database the tests may create databases from.</summary>
    public static string Postgres => Require(PostgresVariable);

    /// <summary>Skips (with the reason) when the stores are not there: run <c>./test.sh</c>, which starts them.</summary>
    public static void Require()
    {
        // Under ./test.sh (which starts the stores) a missing store is a failure, never a quiet skip.
        if (Environment.GetEnvironmentVariable("SUPPORTGRID_TEST_STRICT") == "1")
        {
            _ = Redis;
            _ = Postgres;
        }
        Skip.If(string.IsNullOrEmpty(Environment.GetEnvironmentVariable(RedisVariable)) || string.IsNullOrEmpty(Environment.GetEnvironmentVariable(PostgresVariable)),
            $"Cluster tests need Redis and PostgreSQL: run ./test.sh (it starts both on 127.0.0.1) or set {RedisVariable} and {PostgresVariable}.");
    }

    private static string Require(string variable) =>
        Environment.GetEnvironmentVariable(variable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException($"{variable} is not set: run ./test.sh.");
}
