using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SupportGrid.Abuse.Tests;

/// <summary>
/// The whole product (gateway plus co-hosted silo) on real Kestrel at 127.0.0.1, with low abuse limits so that the tests
/// reach them quickly, 127.0.0.1 as a known proxy so that each test's clients can speak from an address of their own
/// (<c>X-Forwarded-For</c>), two sites (<c>demo</c> on the gateway's own origin, <c>shop</c> at <see cref="ShopOrigin"/>),
/// and every log line kept for the tests to read.
/// </summary>
public class AbuseGateway : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string ShopOrigin = "https://shop.example";
    public const string ForeignOrigin = "https://evil.example";
    public const string IdentitySecret = "current-identity-secret";
    public const string PreviousIdentitySecret = "previous-identity-secret";
    public const string Password = "slot-password";
    public const string Admin = "ada";
    private const int Slots = 40;
    private int _nextSlot = -1;
    private int _nextAddress;
    private readonly string _data = Directory.CreateTempSubdirectory("sg-abuse-").FullName;

    public Uri BaseAddress { get; private set; } = null!;

    /// <summary>The gateway's own origin, as a browser on the demo shop or the console sends it.</summary>
    public string OwnOrigin => BaseAddress.GetLeftPart(UriPartial.Authority);

    public LogSink Logs { get; } = new();

    /// <summary>Settings under <c>SupportGrid:Security</c>; a subclass may raise them (the fuzzing makes thousands of calls).</summary>
    protected virtual IReadOnlyDictionary<string, string> Limits => new Dictionary<string, string>
    {
        ["CallBurstPerConnection"] = "10",
        ["CallsPerSecondPerConnection"] = "5",
        ["CallBurstPerAddress"] = "30",
        ["CallsPerSecondPerAddress"] = "15",
        ["RefusalsBeforeDisconnect"] = "5",
        ["ChatsPerAddressPerMinute"] = "3",
        ["ConnectionsPerAddress"] = "5",
        // Low, and never reached by the tests' own clients: they all come through 127.0.0.1, the known proxy (PeerLimitTests).
        ["TcpConnectionsPerPeer"] = "8",
        ["MaxRequestBodyBytes"] = "65536",
        ["MaxRequestHeadersBytes"] = "16384",
        ["SignInFailuresBeforeDelay"] = "2",
        ["SignInFailuresBeforeLock"] = "4",
        ["SignInFailuresPerAddressBeforeLock"] = "6",
        ["SignInLockout"] = "00:10:00",
    };

    /// <summary>The known proxy whose <c>X-Forwarded-For</c> is believed; null: none, every client is the socket's peer.</summary>
    protected virtual string? KnownProxy => "127.0.0.1";

    /// <summary>A known proxy network in CIDR form; null: none.</summary>
    protected virtual string? KnownNetwork => null;

    /// <summary>A test's own queue of site demo and agent, so tests sharing one gateway never see each other's customers.</summary>
    public sealed record Slot(string Queue, string AgentId, string AgentName);

    public Slot NextSlot()
    {
        var n = Interlocked.Increment(ref _nextSlot);
        if (n >= Slots)
            throw new InvalidOperationException("Raise AbuseGateway.Slots.");
        return new Slot($"t{n}", $"agent{n}", $"Agent {n}");
    }

    /// <summary>A client address nobody else in this gateway's tests uses (a documentation range, via X-Forwarded-For).</summary>
    public string NextAddress()
    {
        var n = Interlocked.Increment(ref _nextAddress);
        return $"203.0.{n / 250}.{n % 250 + 1}";
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseSetting("Urls", "http://127.0.0.1:0");
        builder.UseSetting("SupportGrid:Silo:SiloPort", FreePort().ToString());
        builder.UseSetting("SupportGrid:Silo:GatewayPort", FreePort().ToString());
        builder.UseSetting("SupportGrid:Flow:OfferTimeout", "00:00:30");
        builder.UseSetting("SupportGrid:Routing:OfflineWhenNoAgents", "false");
        builder.UseSetting("SupportGrid:Flow:EndedSessionGrace", "00:00:02");
        builder.UseSetting("SupportGrid:Records:SqliteConnectionString", $"Data Source={Path.Combine(_data, "records.db")}");
        builder.UseSetting("SupportGrid:Storage:SqliteConnectionString", $"Data Source={Path.Combine(_data, "state.db")}");
        if (KnownProxy is not null)
            builder.UseSetting("SupportGrid:Gateway:KnownProxies:0", KnownProxy);
        if (KnownNetwork is not null)
            builder.UseSetting("SupportGrid:Gateway:KnownNetworks:0", KnownNetwork);
        builder.UseSetting("SupportGrid:Sites:demo:IdentitySecret", IdentitySecret);
        builder.UseSetting("SupportGrid:Sites:demo:PreviousIdentitySecret", PreviousIdentitySecret);
        builder.UseSetting("SupportGrid:Sites:shop:Origins:0", ShopOrigin);
        builder.UseSetting("SupportGrid:Sites:shop:Queues:0", "sales");
        builder.UseSetting("SupportGrid:Sites:shop:IdentitySecret", "shop-secret");
        foreach (var (key, value) in Limits)
            builder.UseSetting($"SupportGrid:Security:{key}", value);
        var hash = Gateway.Auth.PasswordHash.Create(Password, iterations: 1000);
        builder.UseSetting($"SupportGrid:Agents:{Admin}:PasswordHash", hash);
        builder.UseSetting($"SupportGrid:Agents:{Admin}:Roles:0", "admin");
        for (var n = 0; n < Slots; n++)
        {
            builder.UseSetting($"SupportGrid:Sites:demo:Queues:{n + 2}", $"t{n}");
            builder.UseSetting($"SupportGrid:Agents:agent{n}:DisplayName", $"Agent {n}");
            builder.UseSetting($"SupportGrid:Agents:agent{n}:PasswordHash", hash);
            builder.UseSetting($"SupportGrid:Agents:agent{n}:Queues:0", $"demo/t{n}");
        }
        builder.ConfigureLogging(logging => logging.AddProvider(Logs).SetMinimumLevel(LogLevel.Trace).AddFilter("Orleans", LogLevel.Warning));
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
        if (Environment.GetEnvironmentVariable("SG_DUMP_LOGS") is { Length: > 0 } dump)
            File.WriteAllLines(dump, Logs.Lines.Where(l => l.Level >= LogLevel.Warning).Select(l => $"{l.Level} {l.Category} {l.Message}"));
        await base.DisposeAsync();
        try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
    }

    /// <summary>An HTTP client speaking from <paramref name="address"/>.</summary>
    public HttpClient Http(string? address = null)
    {
        var http = new HttpClient { BaseAddress = BaseAddress };
        if (address is not null)
            http.DefaultRequestHeaders.Add("X-Forwarded-For", address);
        return http;
    }

    public async Task<string> TokenAsync(string username, string? address = null)
    {
        using var http = Http(address);
        var response = await http.PostAsJsonAsync("/api/auth/token", new { username, password = Password });
        response.EnsureSuccessStatusCode();
        return (await response.Content.ReadFromJsonAsync<TokenBody>())!.AccessToken;
    }

    public HubConnection Customer(string address, string? origin = null, HttpTransportType transport = HttpTransportType.WebSockets) =>
        new HubConnectionBuilder().WithUrl(new Uri(BaseAddress, "/hubs/customer"), transport, o =>
        {
            o.Headers["X-Forwarded-For"] = address;
            if (origin is not null)
                o.Headers["Origin"] = origin;
        }).Build();

    public HubConnection Agent(string? token, string address, string? origin = null) =>
        new HubConnectionBuilder().WithUrl(new Uri(BaseAddress, "/hubs/agent"), HttpTransportType.WebSockets, o =>
        {
            o.AccessTokenProvider = () => Task.FromResult(token);
            o.Headers["X-Forwarded-For"] = address;
            if (origin is not null)
                o.Headers["Origin"] = origin;
        }).Build();

    private sealed record TokenBody(string AccessToken);

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}

/// <summary>The same gateway with limits out of the way, for the fuzzing, which makes thousands of calls on one connection.</summary>
public sealed class FuzzGateway : AbuseGateway
{
    protected override IReadOnlyDictionary<string, string> Limits => new Dictionary<string, string>
    {
        ["CallBurstPerConnection"] = "100000",
        ["CallsPerSecondPerConnection"] = "100000",
        ["CallBurstPerAddress"] = "100000",
        ["CallsPerSecondPerAddress"] = "100000",
        // The generated arguments, not the transport limits tested elsewhere: a call of four long strings of control
        // characters (six bytes each as JSON escapes) is larger than the customer hub's 32 KB, and closes the connection.
        ["ChatsPerAddressPerMinute"] = "100000",
        ["RefusalsBeforeDisconnect"] = "10000",
        ["CustomerHubMaxMessageBytes"] = "1048576",
        ["AgentHubMaxMessageBytes"] = "1048576",
    };
}

/// <summary>Every log line the gateway writes, with its category and level.</summary>
public sealed class LogSink : ILoggerProvider
{
    public sealed record Line(string Category, LogLevel Level, EventId EventId, string Message);

    private readonly ConcurrentQueue<Line> _lines = new();

    public IReadOnlyList<Line> Lines => [.. _lines];

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    private sealed class Logger(LogSink sink, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            sink._lines.Enqueue(new Line(category, logLevel, eventId, formatter(state, exception) + (exception is null ? "" : " " + exception)));
    }
}
