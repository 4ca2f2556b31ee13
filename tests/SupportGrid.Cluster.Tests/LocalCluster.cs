using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Npgsql;
using SupportGrid.GrainInterfaces;
using SupportGrid.Silo;

namespace SupportGrid.Cluster.Tests;

/// <summary>
/// Silos and gateways as separate local processes in cluster mode, on fresh ports, sharing the test Redis (under a cluster
/// and service id of their own) and a fresh PostgreSQL database for the usage records.
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    public static readonly TimeSpan StartDeadline = TimeSpan.FromSeconds(90);

    private readonly List<ChildProcess> _processes = [];
    private IHost? _client;

    public string ClusterId { get; } = "test-" + Guid.NewGuid().ToString("N")[..8];

    public string ServiceId { get; } = "sg-" + Guid.NewGuid().ToString("N")[..8];

    public string Database { get; } = "sg_" + Guid.NewGuid().ToString("N")[..12];

    public string RecordsConnectionString => new NpgsqlConnectionStringBuilder(TestStores.Postgres) { Database = Database }.ConnectionString;

    public List<Member> Silos { get; } = [];

    public List<Member> Gateways { get; } = [];

    /// <summary>A running silo or gateway. <see cref="Port"/> is the silo-to-silo port of a silo.</summary>
    public sealed record Member(ChildProcess Process, Uri Http, int Port);

    /// <summary>Settings (environment variables) for every process this cluster starts, over the defaults.</summary>
    public Dictionary<string, string> Settings { get; } = [];

    public static async Task<LocalCluster> StartAsync(int silos, int gateways, IReadOnlyDictionary<string, string>? settings = null)
    {
        var cluster = new LocalCluster();
        foreach (var (key, value) in settings ?? new Dictionary<string, string>())
            cluster.Settings[key] = value;
        try
        {
            await cluster.CreateDatabaseAsync();
            // The first silo creates the record schema; starting the others beside it exercises the schema lock too.
            await Task.WhenAll(Enumerable.Range(0, silos).Select(_ => cluster.AddSiloAsync()));
            await Task.WhenAll(Enumerable.Range(0, gateways).Select(_ => cluster.AddGatewayAsync()));
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public async Task<Member> AddSiloAsync()
    {
        int siloPort = FreePort(), gatewayPort = FreePort(), http = FreePort();
        var environment = Common();
        environment["SupportGrid__Silo__AdvertisedIPAddress"] = "127.0.0.1";
        environment["SupportGrid__Silo__SiloPort"] = siloPort.ToString();
        environment["SupportGrid__Silo__GatewayPort"] = gatewayPort.ToString();
        environment["SupportGrid__Records__Provider"] = "postgres";
        environment["SupportGrid__Records__PostgresConnectionString"] = RecordsConnectionString;
        environment["Urls"] = $"http://127.0.0.1:{http}";
        var member = new Member(Start($"silo{Silos.Count}", "silo", "SupportGrid.Silo.dll", environment), new Uri($"http://127.0.0.1:{http}"), siloPort);
        lock (Silos)
            Silos.Add(member);
        await WaitReadyAsync(member);
        return member;
    }

    public async Task<Member> AddGatewayAsync()
    {
        var http = FreePort();
        var environment = Common();
        environment["SupportGrid__Mode"] = "cluster";
        environment["Urls"] = $"http://127.0.0.1:{http}";
        // A draining gateway waits this long for its clients to move (default 10 s): generous, so that a test's steps
        // between the Reconnect push and its move fit on a loaded machine. The drain still ends when the clients leave.
        environment["SupportGrid__Gateway__Drain__ReconnectWait"] = "00:01:00";
        var member = new Member(Start($"gateway{Gateways.Count}", "gateway", "SupportGrid.Gateway.dll", environment), new Uri($"http://127.0.0.1:{http}"), http);
        lock (Gateways)
            Gateways.Add(member);
        await WaitReadyAsync(member);
        return member;
    }

    /// <summary>An Orleans client of this cluster in the test process, to ask where grains live.</summary>
    public async Task<IClusterClient> ClientAsync()
    {
        if (_client is null)
        {
            var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["SupportGrid:Cluster:Redis"] = TestStores.Redis,
                ["SupportGrid:Cluster:ClusterId"] = ClusterId,
                ["SupportGrid:Cluster:ServiceId"] = ServiceId,
            }).Build();
            var builder = Host.CreateApplicationBuilder();
            builder.UseOrleansClient(client => client.UseSupportGridClustering(configuration));
            _client = builder.Build();
            await _client.StartAsync();
        }
        return _client.Services.GetRequiredService<IClusterClient>();
    }

    public static async Task WaitReadyAsync(Member member)
    {
        using var http = new HttpClient { BaseAddress = member.Http, Timeout = TimeSpan.FromSeconds(2) };
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            if (member.Process.HasExited)
                throw new InvalidOperationException($"{member.Process.Name} exited while starting.\n{member.Process.Tail()}");
            try
            {
                if ((await http.GetAsync("/health/ready")).IsSuccessStatusCode)
                    return;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            catch (TaskCanceledException)
            {
                // Busy starting.
            }
            if (deadline.Elapsed > StartDeadline)
                throw new TimeoutException($"{member.Process.Name} was not ready within {StartDeadline}.\n{member.Process.Tail()}");
            await Task.Delay(100);
        }
    }

    public static async Task<string> TokenAsync(Member gateway, string username, string password = "demo")
    {
        using var http = new HttpClient { BaseAddress = gateway.Http };
        var response = await http.PostAsJsonAsync("/api/auth/token", new { username, password });
        if (!response.IsSuccessStatusCode)
        {
            // The gateway's own log says why (an unhandled exception is logged there with its stack).
            throw new HttpRequestException($"POST /api/auth/token on {gateway.Process.Name}: {(int)response.StatusCode} " +
                $"{await response.Content.ReadAsStringAsync()}\n{gateway.Process.Tail(40)}", null, response.StatusCode);
        }
        return (await response.Content.ReadFromJsonAsync<TokenBody>())!.AccessToken;
    }

    public static HubConnection CustomerConnection(Member gateway) => new HubConnectionBuilder()
        .WithUrl(new Uri(gateway.Http, "/hubs/customer"))
        .Build();

    public static HubConnection AgentConnection(Member gateway, string token) => new HubConnectionBuilder()
        .WithUrl(new Uri(gateway.Http, "/hubs/agent"), o => o.AccessTokenProvider = () => Task.FromResult<string?>(token))
        .Build();

    /// <summary>The end of every process's log, for assertion messages.</summary>
    public string Logs() => string.Join("\n", _processes.Select(p => p.Tail(25)));

    /// <summary>The silo process where <paramref name="grain"/> is active now (asked of the cluster's management grain).</summary>
    public async Task<Member> SiloHoldingAsync(Func<IClusterClient, IAddressable> grain)
    {
        var client = await ClientAsync();
        var holder = await client.GetGrain<IManagementGrain>(0).GetActivationAddress(grain(client));
        Assert.NotNull(holder);
        lock (Silos)
            return Silos.Single(s => s.Port == holder.Endpoint.Port);
    }

    /// <summary>Until the cluster has noticed a dead silo (or while one is still joining), a call that reaches it fails
    /// with <c>unavailable</c> (and says so): retries that, and only that, until <paramref name="deadline"/>, as the widget
    /// and the console do. Any other failure is thrown, with the processes' logs written to <paramref name="log"/>.</summary>
    public async Task<T> UntilAvailableAsync<T>(Func<Task<T>> call, TimeSpan deadline, Action<string> log)
    {
        var until = DateTime.UtcNow + deadline;
        while (true)
        {
            try
            {
                return await call();
            }
            catch (HubException e) when (DateTime.UtcNow < until && e.Message.Contains(ErrorCodes.Unavailable + ": ", StringComparison.Ordinal))
            {
                log($"{DateTime.UtcNow:HH:mm:ss.fff} refused while the cluster recovers: {e.Message}");
                await Task.Delay(500); // a retry interval, not a wait for an event: the next attempt is the check
            }
            catch
            {
                log(Logs());
                throw;
            }
        }
    }

    public Task UntilAvailableAsync(Func<Task> call, TimeSpan deadline, Action<string> log) =>
        UntilAvailableAsync(async () => { await call(); return true; }, deadline, log);

    public async ValueTask DisposeAsync()
    {
        if (_client is not null)
        {
            using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(5));
            try { await _client.StopAsync(stop.Token); } catch (OperationCanceledException) { }
            _client.Dispose();
        }
        foreach (var process in _processes)
            await process.DisposeAsync();
        // Leave the shared test stores as they were.
        await using (var redis = await StackExchange.Redis.ConnectionMultiplexer.ConnectAsync(TestStores.Redis))
        {
            var keys = redis.GetServers()[0].Keys(pattern: $"{ServiceId}/*").ToArray();
            if (keys.Length > 0)
                await redis.GetDatabase().KeyDeleteAsync(keys);
        }
        await using var connection = new NpgsqlConnection(TestStores.Postgres);
        await connection.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {Database} WITH (FORCE)", connection);
        await drop.ExecuteNonQueryAsync();
    }

    private async Task CreateDatabaseAsync()
    {
        await using var connection = new NpgsqlConnection(TestStores.Postgres);
        await connection.OpenAsync();
        await using var create = new NpgsqlCommand($"CREATE DATABASE {Database}", connection);
        await create.ExecuteNonQueryAsync();
    }

    /// <summary>Extra settings for every process, <c>key=value;key=value</c> (e.g. to measure other membership settings:
    /// <c>SupportGrid__Cluster__Membership__ProbeTimeout=00:00:05</c>).</summary>
    public const string ExtraSettingsVariable = "SUPPORTGRID_TEST_SETTINGS";

    private Dictionary<string, string> Common()
    {
        var settings = Defaults();
        foreach (var (key, value) in Settings)
            settings[key] = value;
        foreach (var pair in (Environment.GetEnvironmentVariable(ExtraSettingsVariable) ?? "").Split(';', StringSplitOptions.RemoveEmptyEntries))
            settings[pair[..pair.IndexOf('=')]] = pair[(pair.IndexOf('=') + 1)..];
        return settings;
    }

    private Dictionary<string, string> Defaults() => new()
    {
        ["SupportGrid__Cluster__Redis"] = TestStores.Redis,
        ["SupportGrid__Cluster__ClusterId"] = ClusterId,
        ["SupportGrid__Cluster__ServiceId"] = ServiceId,
        ["Logging__LogLevel__Default"] = "Warning",
        ["Logging__LogLevel__Orleans"] = "Warning",
        ["DOTNET_ENVIRONMENT"] = "Production",
        ["ASPNETCORE_ENVIRONMENT"] = "Production",
        // Production runtime settings, but the demo agents and keys of appsettings.json (production mode refuses those).
        ["SupportGrid__Security__EnforceProductionSettings"] = "false",
    };

    private ChildProcess Start(string name, string project, string dll, Dictionary<string, string> environment)
    {
        var folder = Path.Combine(Repository.Root, project, "bin", Repository.Configuration, "net10.0");
        var path = Path.Combine(folder, dll);
        if (!File.Exists(path))
            throw new FileNotFoundException($"Build {project} in {Repository.Configuration} first.", path);
        var process = ChildProcess.Start(name, path, Path.Combine(Repository.Root, project), environment, "--contentRoot", Path.Combine(Repository.Root, project));
        lock (_processes)
            _processes.Add(process);
        return process;
    }

    private static readonly HashSet<int> Taken = [];

    /// <summary>A port the kernel just handed out and nobody in this test run got before (two silos on one port are not
    /// detected on Linux).</summary>
    public static int FreePort()
    {
        while (true)
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            var port = ((IPEndPoint)listener.LocalEndpoint).Port;
            lock (Taken)
            {
                if (Taken.Add(port))
                    return port;
            }
        }
    }

    private sealed record TokenBody(string AccessToken);
}

/// <summary>Where the repository and the build output under test are.</summary>
public static class Repository
{
    public static string Root { get; } = Find();

    /// <summary>Release or Debug, as this test assembly was built (the processes under test come from the same build).</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SupportGrid.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("SupportGrid.slnx not found above " + AppContext.BaseDirectory);
    }
}
