using System.Net;
using System.Net.Http.Headers;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Cluster.Tests;

/// <summary>Metrics for Prometheus from silos and gateways, and the Orleans dashboard for admins only.</summary>
[Collection(ProcessCollection.Name)]
public sealed partial class TelemetryTests
{
    private static readonly Dictionary<string, string> DashboardOn = new() { ["SupportGrid__Telemetry__Dashboard"] = "true" };

    [SkippableFact]
    public async Task SilosAndGatewaysServeOrleansAndSupportGridMetricsForPrometheusAfterAChat()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 1, DashboardOn);
        var (silo, gateway) = (cluster.Silos[0], cluster.Gateways[0]);
        await using var chat = await ChatParties.ConnectAsync(gateway, gateway);
        var said = await chat.CustomerSaysAsync("Hello", "c-0", TimeSpan.FromSeconds(20));
        await chat.AgentMessages.WaitAsync(m => m.Item2.Seq == said.Seq);

        // The silo holds the queue and the agent: the wait is recorded when the agent takes the chat, the chat is active.
        var siloMetrics = await ScrapeUntilAsync(silo, text => Value(text, "supportgrid_chats_active") >= 1
            && Value(text, "supportgrid_queue_wait_time_seconds_count") >= 1);
        // The message's two steps on the silo before its sender is answered: stored, then handed to the stream.
        Assert.True(Value(siloMetrics, "supportgrid_channel_store_duration_milliseconds_count") >= 1, siloMetrics);
        Assert.True(Value(siloMetrics, "supportgrid_channel_publish_duration_milliseconds_count") >= 1, siloMetrics);
        Assert.Matches(@"(?m)^orleans_\w+", siloMetrics);
        Assert.Matches(@"(?m)^supportgrid_queue_length\{[^}]*queue=""demo/sales""", siloMetrics);
        Assert.Equal(0, Value(siloMetrics, "supportgrid_queue_length"));
        Assert.Equal(1, Value(siloMetrics, "supportgrid_chats_active"));

        // The gateway: the Orleans client's own series and ASP.NET Core's.
        // The gateway relayed the message (and the agent's join) from the stream: how late, and how long the sends took
        // (recorded just after the sends the agent already received, so scrape until it is there).
        var gatewayMetrics = await ScrapeUntilAsync(gateway, text => OrleansSeries().IsMatch(text)
            && Value(text, "supportgrid_gateway_relay_lag_milliseconds_count") >= 1);
        Assert.Matches(@"(?m)^kestrel_\w+", gatewayMetrics);
        Assert.True(Value(gatewayMetrics, "supportgrid_gateway_relay_duration_milliseconds_count") >= 1, gatewayMetrics);

        // Ending the chat: no chat active any more.
        await chat.Agent.InvokeAsync("EndChat", chat.ChannelId);
        await ScrapeUntilAsync(silo, text => Value(text, "supportgrid_chats_active") == 0);
    }

    [SkippableFact]
    public async Task TheOrleansDashboardAnswersOnlyTheAdminRole()
    {
        TestStores.Require();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 1, DashboardOn);
        var gateway = cluster.Gateways[0];
        using var http = new HttpClient { BaseAddress = gateway.Http };

        Assert.Equal(HttpStatusCode.Unauthorized, (await http.GetAsync("/dashboard/")).StatusCode);
        var agent = await LocalCluster.TokenAsync(gateway, "bob");
        Assert.Equal(HttpStatusCode.Forbidden, (await Get(http, "/dashboard/", agent)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await http.GetAsync($"/dashboard/?access_token={agent}")).StatusCode);

        var admin = await LocalCluster.TokenAsync(gateway, "alice");
        var page = await Get(http, "/dashboard/", admin);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("Orleans", await page.Content.ReadAsStringAsync(), StringComparison.OrdinalIgnoreCase);

        // A browser: the token once in the address, then the cookie (limited to the dashboard) for what the page loads.
        var handler = new HttpClientHandler { CookieContainer = new CookieContainer() };
        using var browser = new HttpClient(handler) { BaseAddress = gateway.Http };
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync($"/dashboard/?access_token={admin}")).StatusCode);
        var cookie = Assert.Single(handler.CookieContainer.GetCookies(new Uri(gateway.Http, "/dashboard/")));
        Assert.True(cookie.HttpOnly);
        Assert.Equal("/dashboard", cookie.Path);
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/dashboard/")).StatusCode);
        Assert.Empty(handler.CookieContainer.GetCookies(new Uri(gateway.Http, "/api/")));
    }

    [SkippableFact]
    public async Task AHubCallIsTracedThroughTheGrainCallsItMakesOnTheSilo()
    {
        TestStores.Require();
        await using var collector = await OtlpCollector.StartAsync();
        await using var cluster = await LocalCluster.StartAsync(silos: 1, gateways: 1, collector.Settings());
        var gateway = cluster.Gateways[0];

        await using var chat = await ChatParties.ConnectAsync(gateway, gateway); // StartChat, then AcceptOffer

        // The agent's AcceptOffer: one trace from the hub invocation on the gateway through every grain call it makes on
        // the silo (the agent grain, which claims from the queue, opens the channel, assigns the customer).
        var accept = await collector.WaitForTraceAsync("SupportGrid.Gateway.Hubs.AgentHub/AcceptOffer",
            "IAgentGrain/AcceptOfferAsync", "IQueueGrain/ClaimOfferAsync", "IChannelGrain/OpenAsync", "ICustomerGrain/AssignAsync", "IQueueGrain/CompleteClaimAsync");
        Assert.Equal("supportgrid-gateway", accept.Root.Service);
        foreach (var name in new[] { "IAgentGrain/AcceptOfferAsync", "IQueueGrain/ClaimOfferAsync", "IChannelGrain/OpenAsync", "ICustomerGrain/AssignAsync", "IQueueGrain/CompleteClaimAsync" })
        {
            var handled = accept.Spans.Single(s => s.Name == name && s.Kind == OtlpCollector.ServerKind);
            Assert.Equal("supportgrid-silo", handled.Service);
            Assert.True(accept.Descends(handled), $"{name} on the silo is not under the hub call");
        }

        // The customer's StartChat: traced through the queue to the agent grain and back to the gateway that pushes the
        // offer to the agent's console.
        var start = await collector.WaitForTraceAsync("SupportGrid.Gateway.Hubs.CustomerHub/StartChat",
            "ICustomerGrain/StartAsync", "IQueueGrain/EnqueueAsync", "IAgentGrain/ReceiveOfferAsync", "IGatewayObserver/OfferAsync");
        var offerPush = start.Spans.Single(s => s.Name == "IGatewayObserver/OfferAsync" && s.Kind == OtlpCollector.ServerKind);
        Assert.Equal("supportgrid-gateway", offerPush.Service);
        Assert.True(start.Descends(offerPush));
        Assert.NotEqual(start.Root.TraceId, accept.Root.TraceId);
    }

    private static Task<HttpResponseMessage> Get(HttpClient http, string path, string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return http.SendAsync(request);
    }

    /// <summary>Scrapes until the text satisfies <paramref name="done"/> (the exporter caches a scrape briefly and the
    /// gauges are read at scrape time).</summary>
    private static async Task<string> ScrapeUntilAsync(LocalCluster.Member member, Func<string, bool> done, int seconds = 20)
    {
        using var http = new HttpClient { BaseAddress = member.Http };
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        var text = "";
        while (DateTime.UtcNow < deadline)
        {
            var response = await http.GetAsync("/metrics");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            text = await response.Content.ReadAsStringAsync();
            if (done(text))
                return text;
            await Task.Delay(250);
        }
        throw new TimeoutException($"{member.Process.Name}'s /metrics never matched; last scrape:\n{text}");
    }

    /// <summary>The sum of a series' samples over all its label sets; -1 if the series is absent.</summary>
    private static double Value(string exposition, string series)
    {
        var samples = Regex.Matches(exposition, $@"(?m)^{Regex.Escape(series)}(?:\{{[^}}]*\}})? (\S+)");
        return samples.Count == 0 ? -1 : samples.Sum(m => double.Parse(m.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
    }

    [GeneratedRegex(@"(?m)^orleans_\w+")]
    private static partial Regex OrleansSeries();
}
