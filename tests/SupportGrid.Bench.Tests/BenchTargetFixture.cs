using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace SupportGrid.Bench.Tests;

/// <summary>
/// The target of the load generator: the whole product in standalone mode on real Kestrel at 127.0.0.1 on a free port,
/// fresh silo ports, and the bench agents configured the way <c>bench agents-env</c> configures them (here through the
/// same <see cref="BenchAgents.Settings"/>). Capacity 3, so four chats already need two agents.
/// </summary>
public sealed class BenchTargetFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    /// <summary>One deployment for every SupportGrid test class: they run one after the other against it (two
    /// standalone deployments in one process would share its files), and each scenario frees what it used.</summary>
    public const string Collection = "SupportGrid deployment";

    public BenchAgents Agents { get; } = new("bench", Count: 2, Capacity: 3, Password: "bench-password", Queue: "demo/sales");

    /// <summary>Backlog customers configured (<c>route --waiting</c>), as <c>bench agents-env --waiting</c> does.</summary>
    public int WaitingCustomers => 6;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The deployment's SQLite files (session records, grain state): fresh for every test run.</summary>
    private readonly DirectoryInfo _data = Directory.CreateTempSubdirectory("bench-target-");

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.UseSetting("SupportGrid:Silo:SiloPort", FreePort().ToString());
        builder.UseSetting("SupportGrid:Silo:GatewayPort", FreePort().ToString());
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // As bench/run.sh: a queue takes customers while no agent is signed in (connect --start-chat queues them).
        builder.UseSetting("SupportGrid:Routing:OfflineWhenNoAgents", "false");
        // As bench/run.sh with BENCH_LIMITS=production: the bench is the proxy, so chat --attack's addresses count.
        builder.UseSetting("SupportGrid:Gateway:KnownProxies:0", "127.0.0.1");
        // Small enough that chat --attack's attackers meet them within a tiny run even on a loaded machine (no test here
        // holds more than about 20 connections or has a call refused).
        builder.UseSetting("SupportGrid:Security:ConnectionsPerAddress", "40");
        builder.UseSetting("SupportGrid:Security:RefusalsBeforeDisconnect", "5");
        // The tests here share this deployment and open some 60-70 chats from 127.0.0.1 within a minute (the production
        // default allows 60 per address; that limit has its own tests in SupportGrid.Abuse.Tests).
        builder.UseSetting("SupportGrid:Security:ChatsPerAddressPerMinute", "600");
        builder.UseSetting("SupportGrid:Records:SqliteConnectionString", $"Data Source={Path.Combine(_data.FullName, "records.db")}");
        builder.UseSetting("SupportGrid:Storage:SqliteConnectionString", $"Data Source={Path.Combine(_data.FullName, "state.db")}");
        foreach (var (key, value) in Agents.Settings().Concat(Backlog.Settings("demo", WaitingCustomers)))
            builder.UseSetting(key, value);
    }

    public Task InitializeAsync()
    {
        UseKestrel(0);
        StartServer();
        var addresses = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First(a => a.StartsWith("http://127.0.0.1", StringComparison.Ordinal)));
        return Task.CompletedTask;
    }

    async Task IAsyncLifetime.DisposeAsync()
    {
        await base.DisposeAsync();
        _data.Delete(recursive: true);
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

[CollectionDefinition(BenchTargetFixture.Collection)]
public sealed class BenchTargetCollection : ICollectionFixture<BenchTargetFixture>;
