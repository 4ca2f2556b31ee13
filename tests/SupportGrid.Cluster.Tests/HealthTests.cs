using System.Diagnostics;
using System.Net;
using System.Net.Sockets;

namespace SupportGrid.Cluster.Tests;

/// <summary>Startup and readiness wait for the cluster; liveness is the process alone.</summary>
[Collection(ProcessCollection.Name)]
public sealed class HealthTests
{
    [SkippableFact]
    public async Task ASiloThatCannotReachItsClusterIsAliveButNeitherStartedNorReady()
    {
        TestStores.Require();
        var nowhere = Unused();
        await using var silo = Start("silo", "SupportGrid.Silo.dll", out var http, new()
        {
            ["SupportGrid__Cluster__Redis"] = $"127.0.0.1:{nowhere},connectTimeout=500",
            ["SupportGrid__Silo__AdvertisedIPAddress"] = "127.0.0.1",
            ["SupportGrid__Silo__SiloPort"] = Unused().ToString(),
            ["SupportGrid__Silo__GatewayPort"] = Unused().ToString(),
        });
        await AssertAliveButNotStartedAsync(silo, http);
    }

    [SkippableFact]
    public async Task AGatewayWithNoSiloToConnectToIsAliveButNeitherStartedNorReady()
    {
        TestStores.Require();
        await using var gateway = Start("gateway", "SupportGrid.Gateway.dll", out var http, new()
        {
            ["SupportGrid__Mode"] = "cluster",
            ["SupportGrid__Cluster__Redis"] = TestStores.Redis,
            ["SupportGrid__Cluster__ServiceId"] = "nobody-" + Guid.NewGuid().ToString("N")[..8],
        });
        await AssertAliveButNotStartedAsync(gateway, http);
    }

    private static async Task AssertAliveButNotStartedAsync(ChildProcess process, Uri address)
    {
        using var client = new HttpClient { BaseAddress = address, Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        while (true)
        {
            Assert.False(process.HasExited, process.Tail());
            try
            {
                if ((await client.GetAsync("/health/live")).StatusCode == HttpStatusCode.OK)
                    break;
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            Assert.True(clock.Elapsed < LocalCluster.StartDeadline, process.Tail());
            await Task.Delay(100);
        }
        // Two seconds on, it is still alive and still has not joined.
        var settled = Stopwatch.StartNew();
        while (settled.Elapsed < TimeSpan.FromSeconds(2))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/startup")).StatusCode);
            Assert.Equal(HttpStatusCode.ServiceUnavailable, (await client.GetAsync("/health/ready")).StatusCode);
            Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/health/live")).StatusCode);
            await Task.Delay(250);
        }
    }

    private static ChildProcess Start(string project, string dll, out Uri http, Dictionary<string, string> environment)
    {
        var port = Unused();
        http = new Uri($"http://127.0.0.1:{port}");
        environment["Urls"] = http.ToString().TrimEnd('/');
        environment["Logging__LogLevel__Default"] = "Warning";
        environment["SupportGrid__Security__EnforceProductionSettings"] = "false"; // the demo accounts of appsettings.json
        var root = Path.Combine(Repository.Root, project == "silo" ? "silo" : "gateway");
        return ChildProcess.Start($"health-{project}", Path.Combine(root, "bin", Repository.Configuration, "net10.0", dll), root, environment, "--contentRoot", root);
    }

    private static int Unused()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
