using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;
using SupportGrid.Gateway.Security;

namespace SupportGrid.Abuse.Tests;

/// <summary>Response headers, and what production mode refuses.</summary>
public sealed class HeaderTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Fact]
    public async Task TheConsoleAndWidgetCarryAContentSecurityPolicyAndEveryResponseNosniff()
    {
        using var http = gateway.Http(gateway.NextAddress());
        var console = await http.GetAsync("/console/");
        console.EnsureSuccessStatusCode();
        var csp = string.Join(";", console.Headers.GetValues("Content-Security-Policy"));
        Assert.Contains("frame-ancestors 'none'", csp);
        Assert.Contains("script-src 'self'", csp);
        Assert.DoesNotContain("unsafe-eval", csp);
        Assert.Equal("DENY", console.Headers.GetValues("X-Frame-Options").Single());
        var widget = await http.GetAsync("/widget/chat.js");
        Assert.Contains("default-src 'none'", widget.Headers.GetValues("Content-Security-Policy").Single());

        using var foreign = new HttpRequestMessage(HttpMethod.Get, "/widget/chat.js");
        foreign.Headers.Add("Origin", AbuseGateway.ForeignOrigin);
        foreach (var response in new[]
                 {
                     console, widget, await http.GetAsync("/demo/"), await http.GetAsync("/health/live"), await http.GetAsync("/no/such/page"),
                     await http.PostAsync("/hubs/customer/negotiate?negotiateVersion=1", null), await http.GetAsync("/api/sessions"), await http.SendAsync(foreign),
                 })
        {
            Assert.Equal("nosniff", response.Headers.GetValues("X-Content-Type-Options").Single());
        }
        Assert.False(console.Headers.Contains("Strict-Transport-Security")); // development, plain HTTP
        await _bystander.StillChattingAsync();
    }
}

public sealed class ProductionTests
{
    [Fact]
    public void ProductionModeRefusesToStartWithTheDemoSettings()
    {
        using var demo = new ProductionGateway(new Dictionary<string, string?>());
        var refused = Assert.ThrowsAny<Exception>(demo.Start);
        var message = refused.ToString();
        Assert.Contains("SupportGrid:Auth:SigningKey is empty", message);
        Assert.Contains("SupportGrid:Agents:alice has the demo password", message);
        Assert.Contains("SupportGrid:Sites:demo uses the demo identity secret", message);

        using var emptySecret = new ProductionGateway(ProductionGateway.Proper(("SupportGrid:Sites:demo:IdentitySecret", "")));
        Assert.Contains("SupportGrid:Sites:demo:IdentitySecret is empty", Assert.ThrowsAny<Exception>(emptySecret.Start).ToString());
    }

    [Fact]
    public async Task ProductionModeStartsWithRealSettingsAndSendsHstsOverHttpsOnly()
    {
        using var gateway = new ProductionGateway(ProductionGateway.Proper(("SupportGrid:Gateway:KnownProxies:0", "127.0.0.1")));
        gateway.Start();
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        using var https = new HttpRequestMessage(HttpMethod.Get, "/demo/");
        https.Headers.Add("X-Forwarded-Proto", "https");
        var secure = await http.SendAsync(https);
        Assert.StartsWith("max-age=", secure.Headers.GetValues("Strict-Transport-Security").Single());
        Assert.False((await http.GetAsync("/demo/")).Headers.Contains("Strict-Transport-Security"));
    }

    [Fact]
    public async Task XForwardedForIsBelievedOnlyFromAKnownProxy()
    {
        using var gateway = new ProductionGateway(ProductionGateway.Proper(
            ("SupportGrid:Security:SignInFailuresPerAddressBeforeLock", "2"), ("SupportGrid:Security:SignInFailuresBeforeDelay", "100"),
            ("SupportGrid:Security:SignInFailuresBeforeLock", "100")));
        gateway.Start();
        using var http = new HttpClient { BaseAddress = gateway.BaseAddress };
        // No known proxies: every spoofed address is the socket's 127.0.0.1, so two failures lock "all" of them.
        for (var i = 0; i < 2; i++)
        {
            using var request = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token") { Content = System.Net.Http.Json.JsonContent.Create(new { username = "x" + i, password = "x" }) };
            request.Headers.Add("X-Forwarded-For", $"198.51.100.{i + 1}");
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(request)).StatusCode);
        }
        using var third = new HttpRequestMessage(HttpMethod.Post, "/api/auth/token") { Content = System.Net.Http.Json.JsonContent.Create(new { username = "y", password = "x" }) };
        third.Headers.Add("X-Forwarded-For", "198.51.100.77");
        Assert.Equal(HttpStatusCode.TooManyRequests, (await http.SendAsync(third)).StatusCode);
    }

    /// <summary>The gateway with <c>ASPNETCORE_ENVIRONMENT=Production</c> and the given settings over appsettings.json.</summary>
    private sealed class ProductionGateway(IReadOnlyDictionary<string, string?> settings) : WebApplicationFactory<Program>
    {
        private readonly string _data = Directory.CreateTempSubdirectory("sg-prod-").FullName;

        public Uri BaseAddress { get; private set; } = null!;

        public static Dictionary<string, string?> Proper(params (string Key, string? Value)[] extra)
        {
            var real = Gateway.Auth.PasswordHash.Create("a-real-password", iterations: 1000);
            var all = new Dictionary<string, string?>
            {
                ["SupportGrid:Auth:SigningKey"] = Convert.ToBase64String(RandomNumberGenerator.GetBytes(32)),
                ["SupportGrid:Sites:demo:IdentitySecret"] = Convert.ToHexString(RandomNumberGenerator.GetBytes(32)),
                ["SupportGrid:Agents:alice:PasswordHash"] = real,
                ["SupportGrid:Agents:bob:Disabled"] = "true",
                ["SupportGrid:Agents:carol:PasswordHash"] = real,
            };
            foreach (var (key, value) in extra)
                all[key] = value;
            return all;
        }

        public void Start()
        {
            UseKestrel(0);
            StartServer();
            var addresses = Services.GetRequiredService<Microsoft.AspNetCore.Hosting.Server.IServer>().Features
                .Get<Microsoft.AspNetCore.Hosting.Server.Features.IServerAddressesFeature>()!.Addresses;
            BaseAddress = new Uri(addresses.First());
        }

        protected override void ConfigureWebHost(IWebHostBuilder builder)
        {
            builder.UseEnvironment("Production");
            builder.UseSetting("Urls", "http://127.0.0.1:0");
            builder.UseSetting("SupportGrid:Silo:SiloPort", FreePort().ToString());
            builder.UseSetting("SupportGrid:Silo:GatewayPort", FreePort().ToString());
            builder.UseSetting("SupportGrid:Records:SqliteConnectionString", $"Data Source={Path.Combine(_data, "records.db")}");
            builder.UseSetting("SupportGrid:Storage:SqliteConnectionString", $"Data Source={Path.Combine(_data, "state.db")}");
            foreach (var (key, value) in settings)
                builder.UseSetting(key, value);
        }

        protected override void Dispose(bool disposing)
        {
            base.Dispose(disposing);
            try { Directory.Delete(_data, recursive: true); } catch (IOException) { }
        }

        private static int FreePort()
        {
            using var listener = new TcpListener(IPAddress.Loopback, 0);
            listener.Start();
            return ((IPEndPoint)listener.LocalEndpoint).Port;
        }
    }
}
