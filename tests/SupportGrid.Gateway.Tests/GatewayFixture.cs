using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// The whole product in standalone mode (gateway plus its co-hosted silo) on real Kestrel at 127.0.0.1 on a free port,
/// with fresh silo ports so several fixtures can run side by side.
/// </summary>
public sealed class GatewayFixture : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string IdentitySecret = "test-identity-secret";

    private const int Slots = 40;
    public const string SlotPassword = "slot-password";

    /// <summary>A queue of the demo site with no agent: offline.</summary>
    public const string OfflineQueue = "offline";

    /// <summary>An account with the supervisor role and no queues.</summary>
    public const string Supervisor = "sam";
    public const string Admin = "ada";
    private int _nextSlot = -1;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The usage-record and grain-state databases; a second fixture given the same files is the same product restarted.</summary>
    public string RecordsFile { get; init; } = Path.Combine(Path.GetTempPath(), $"sg-gateway-records-{Guid.NewGuid():N}.db");

    public string StateFile { get; init; } = Path.Combine(Path.GetTempPath(), $"sg-gateway-state-{Guid.NewGuid():N}.db");

    /// <summary>Settings on top of the fixture's own (a test that needs the product configured otherwise).</summary>
    public Dictionary<string, string> Settings { get; init; } = [];

    /// <summary>A test's own queue and agent (agent "agent{n}", display name "Agent {n}", capacity 3, serving only "demo/t{n}"),
    /// so tests sharing one gateway never see each other's customers.</summary>
    public sealed record Slot(string Queue, string AgentId, string AgentName, string Password);

    public Slot NextSlot()
    {
        var n = Interlocked.Increment(ref _nextSlot);
        if (n >= Slots)
            throw new InvalidOperationException("Raise GatewayFixture.Slots.");
        return new Slot($"t{n}", $"agent{n}", $"Agent {n}", SlotPassword);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        // Information logs of a dozen gateways running side by side bury the failures in the CI log.
        builder.UseSetting("Logging:LogLevel:Default", "Warning");
        // The hub errors the tests provoke on purpose (each logged with its stack) would bury real failures too.
        builder.UseSetting("Logging:LogLevel:Microsoft.AspNetCore.SignalR.Internal.DefaultHubDispatcher", "Critical");
        builder.UseSetting("SupportGrid:Silo:SiloPort", FreePort().ToString());
        builder.UseSetting("SupportGrid:Silo:GatewayPort", FreePort().ToString());
        builder.UseSetting("SupportGrid:Flow:OfferTimeout", "00:00:30");
        builder.UseSetting("SupportGrid:Flow:PositionUpdateInterval", "00:00:00.200");
        builder.UseSetting("SupportGrid:Sites:demo:IdentitySecret", IdentitySecret);
        // Most tests queue customers before an agent is there; queue "offline" keeps the product's default.
        builder.UseSetting("SupportGrid:Routing:OfflineWhenNoAgents", "false");
        builder.UseSetting("SupportGrid:Sites:demo:Queues:100", OfflineQueue);
        builder.UseSetting($"SupportGrid:Routing:Queues:demo:{OfflineQueue}:OfflineWhenNoAgents", "true");
        builder.UseSetting("SupportGrid:Records:SqliteConnectionString", $"Data Source={RecordsFile}");
        builder.UseSetting("SupportGrid:Storage:SqliteConnectionString", $"Data Source={StateFile}");
        builder.UseSetting($"SupportGrid:Agents:{Supervisor}:DisplayName", "Sam Supervisor");
        builder.UseSetting($"SupportGrid:Agents:{Supervisor}:PasswordHash", Auth.PasswordHash.Create(SlotPassword, iterations: 1000));
        builder.UseSetting($"SupportGrid:Agents:{Supervisor}:Roles:0", "supervisor");
        builder.UseSetting($"SupportGrid:Agents:{Admin}:DisplayName", "Ada Admin");
        builder.UseSetting($"SupportGrid:Agents:{Admin}:PasswordHash", Auth.PasswordHash.Create(SlotPassword, iterations: 1000));
        builder.UseSetting($"SupportGrid:Agents:{Admin}:Roles:0", "admin");
        var hash = Auth.PasswordHash.Create(SlotPassword, iterations: 1000);
        for (var n = 0; n < Slots; n++)
        {
            builder.UseSetting($"SupportGrid:Sites:demo:Queues:{n + 2}", $"t{n}");
            builder.UseSetting($"SupportGrid:Agents:agent{n}:DisplayName", $"Agent {n}");
            builder.UseSetting($"SupportGrid:Agents:agent{n}:PasswordHash", hash);
            builder.UseSetting($"SupportGrid:Agents:agent{n}:Capacity", "3");
            builder.UseSetting($"SupportGrid:Agents:agent{n}:Queues:0", $"demo/t{n}");
        }
        foreach (var (key, value) in Settings)
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

    async Task IAsyncLifetime.DisposeAsync() => await base.DisposeAsync();

    public HttpClient Http() => new() { BaseAddress = BaseAddress };

    public async Task<string> TokenAsync(string username, string password = "demo")
    {
        using var http = Http();
        var response = await http.PostAsJsonAsync("/api/auth/token", new { username, password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenBody>())!.AccessToken;
    }

    public HubConnection CustomerConnection() => new HubConnectionBuilder()
        .WithUrl(new Uri(BaseAddress, "/hubs/customer"))
        .Build();

    public HubConnection AgentConnection(string? token) => new HubConnectionBuilder()
        .WithUrl(new Uri(BaseAddress, "/hubs/agent"), o => o.AccessTokenProvider = () => Task.FromResult(token))
        .Build();

    private sealed record TokenBody(string AccessToken);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
