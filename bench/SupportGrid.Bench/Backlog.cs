using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace SupportGrid.Bench;

/// <summary>
/// Customers already waiting when a <c>route</c> run starts (issue 4: "the same p99 with 10,000 customers already
/// waiting"), in the same queue as the arrivals. Each is a returning customer whose verified id has an account manager
/// who is not signed in, and the deployment lets such a customer wait for that manager for an hour
/// (<see cref="Settings"/>), so they stay in the queue, ahead of every arrival in serving order, while the arrivals are
/// routed past them to the bench agents. What is measured is whether routing slows down with a long queue.
/// </summary>
public static class Backlog
{
    /// <summary>The account manager of every backlog customer: configured, never signed in.</summary>
    public const string Manager = "bench-away";

    /// <summary>The demo site's identity secret (gateway/appsettings.json), which signs the backlog's customer ids.</summary>
    public const string DemoSecret = "demo-identity-secret-change-me";

    public static string CustomerId(int n) => $"backlog{n:D6}"; // no hyphen: it becomes part of an environment variable name

    /// <summary>Configuration keys that give the first <paramref name="count"/> backlog customers of
    /// <paramref name="site"/> their account manager, and the wait for one.</summary>
    public static IEnumerable<KeyValuePair<string, string>> Settings(string site, int count)
    {
        if (count <= 0)
            yield break;
        yield return new("SupportGrid:Routing:AffinityWait", "01:00:00");
        for (var n = 0; n < count; n++)
            yield return new($"SupportGrid:Routing:AccountManagers:{site}:{CustomerId(n)}", Manager);
    }

    /// <summary>The signature a site puts beside a customer id it vouches for: HMAC-SHA256 of the id, hex.</summary>
    public static string Sign(string secret, string customerId) =>
        Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes(customerId)));

    /// <summary>Connects <paramref name="count"/> backlog customers and starts their chats (at most
    /// <paramref name="concurrency"/> at once); returns them and their session ids once every one is queued. Throws if
    /// any is not.</summary>
    internal static async Task<(IReadOnlyList<IChatCustomer> Customers, IReadOnlySet<Guid> Sessions)> FillAsync(IChatWire wire, string site, string queue, int count, string secret,
        int concurrency, Action<string> log, CancellationToken cancellationToken)
    {
        var customers = new ConcurrentBag<IChatCustomer>();
        var sessions = new ConcurrentDictionary<Guid, bool>();
        var clock = Stopwatch.StartNew();
        var lastPosition = 0;
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (n, ct) =>
            {
                var customer = await wire.ConnectCustomerAsync(new CustomerEvents(() => { }, _ => { }), ct);
                customers.Add(customer);
                var id = CustomerId(n);
                var started = await customer.StartChatAsync(new StartChatInput(site, queue, $"Backlog {n}", null, null,
                    "http://127.0.0.1/demo/", "bench", id, Sign(secret, id)), ct);
                sessions[started.SessionId] = true;
                InterlockedMax(ref lastPosition, started.Position);
            });
        }
        catch
        {
            await DisposeAsync(customers.ToList(), concurrency);
            throw;
        }
        log(string.Create(CultureInfo.InvariantCulture, $"{count} customers waiting for their account manager (last position {lastPosition}) after {clock.Elapsed.TotalSeconds:F1} s"));
        return (customers.ToList(), sessions.Keys.ToHashSet());
    }

    /// <summary>Opens <paramref name="count"/> customer connections that start no chat (route --idle: the control for
    /// the backlog's connections).</summary>
    internal static async Task<IReadOnlyList<IChatCustomer>> ConnectIdleAsync(IChatWire wire, int count, int concurrency, Action<string> log,
        CancellationToken cancellationToken)
    {
        var customers = new ConcurrentBag<IChatCustomer>();
        var clock = Stopwatch.StartNew();
        try
        {
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = concurrency, CancellationToken = cancellationToken }, async (_, ct) =>
                customers.Add(await wire.ConnectCustomerAsync(new CustomerEvents(() => { }, _ => { }), ct)));
        }
        catch
        {
            await DisposeAsync(customers.ToList(), concurrency, endChats: false);
            throw;
        }
        log(string.Create(CultureInfo.InvariantCulture, $"{count} idle customers connected (no chat) after {clock.Elapsed.TotalSeconds:F1} s"));
        return customers.ToList();
    }

    /// <summary>Ends the backlog's chats (<paramref name="endChats"/>: idle connections have none) and closes their connections.</summary>
    internal static Task DisposeAsync(IReadOnlyList<IChatCustomer> customers, int concurrency, bool endChats = true) =>
        Parallel.ForAsync(0, customers.Count, new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (k, _) =>
        {
            try
            {
                if (endChats && customers[k].IsConnected)
                    await customers[k].EndChatAsync();
            }
            catch (Exception)
            {
                // Closing below ends it too (abandoned after the grace period).
            }
            await customers[k].DisposeAsync();
        });

    private static void InterlockedMax(ref int target, int value)
    {
        var current = Volatile.Read(ref target);
        while (value > current && Interlocked.CompareExchange(ref target, value, current) is var seen && seen != current)
            current = seen;
    }
}
