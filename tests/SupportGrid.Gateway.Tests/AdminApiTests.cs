using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>Runtime settings through <c>/api/admin</c>: admins only, validated with reasons, in effect at once.</summary>
public sealed class AdminApiTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>, IAsyncLifetime
{
    private readonly List<HubConnection> _connections = [];

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        foreach (var connection in _connections)
            await connection.DisposeAsync();
    }

    private async Task<HttpClient> SignedInAsync(string user)
    {
        var http = gateway.Http();
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", await gateway.TokenAsync(user, GatewayFixture.SlotPassword));
        return http;
    }

    private async Task<(HubConnection Hub, Inbox<ChatOffer> Offers)> AvailableAgentAsync(GatewayFixture.Slot slot)
    {
        var hub = gateway.AgentConnection(await gateway.TokenAsync(slot.AgentId, slot.Password));
        _connections.Add(hub);
        var offers = hub.Inbox<ChatOffer>("Offer");
        await hub.StartAsync();
        await hub.InvokeAsync("SetStatus", "available");
        return (hub, offers);
    }

    [Fact]
    public async Task OnlyAdminsChangeSettingsAndBadSettingsAreRefusedWithTheReason()
    {
        var slot = gateway.NextSlot();
        var path = $"/api/admin/queues/demo/{slot.Queue}";
        using (var anonymous = gateway.Http())
            Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync(path)).StatusCode);
        using (var supervisor = await SignedInAsync(GatewayFixture.Supervisor))
            Assert.Equal(HttpStatusCode.Forbidden, (await supervisor.PutAsJsonAsync(path, new { priority = 5 })).StatusCode);

        using var admin = await SignedInAsync(GatewayFixture.Admin);
        var configured = await admin.GetFromJsonAsync<QueueSettingsView>(path);
        Assert.Equal(("longest-idle", 1, false), (configured!.Settings.Policy, configured.Settings.OfferToAgents, configured.SetAtRuntime));
        foreach (var (body, reason) in new (object, string)[]
        {
            (new { offerToAgents = 0 }, "OfferToAgents must be 1 to 20"),
            (new { policy = "random" }, "Unknown routing policy 'random'"),
            (new { overflowTo = "nowhere" }, "has no queue 'nowhere'"),
            (new { overflowTo = slot.Queue, maxWait = "00:01:00" }, "cannot overflow to itself"),
        })
        {
            var response = await admin.PutAsJsonAsync(path, body);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var problem = await response.Content.ReadFromJsonAsync<ProblemDetails>();
            Assert.Equal(ErrorCodes.InvalidInput, problem!.Title);
            Assert.Contains(reason, problem.Detail);
        }
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync("/api/admin/queues/demo/no-such-queue")).StatusCode);
        Assert.False((await admin.GetFromJsonAsync<QueueSettingsView>(path))!.SetAtRuntime); // refused changes changed nothing
    }

    [Fact]
    public async Task AQueueSetAtRuntimeToOfferToTwoAgentsDoesSoAtOnceAndReturnsToItsConfigurationOnDelete()
    {
        var slot = gateway.NextSlot();
        var path = $"/api/admin/queues/demo/{slot.Queue}";
        using var admin = await SignedInAsync(GatewayFixture.Admin);
        var first = await AvailableAgentAsync(slot);
        // A colleague is moved into this queue at runtime.
        var colleagueSlot = gateway.NextSlot();
        var moved = await admin.PutAsJsonAsync($"/api/admin/agents/{colleagueSlot.AgentId}", new { queues = new[] { $"demo/{slot.Queue}" }, capacity = 2 });
        Assert.Equal(HttpStatusCode.OK, moved.StatusCode);
        var colleagueView = await moved.Content.ReadFromJsonAsync<AgentSettingsView>();
        Assert.Equal(($"demo/{slot.Queue}", 2), (Assert.Single(colleagueView!.Profile.Queues), colleagueView.Profile.Capacity));
        var second = await AvailableAgentAsync(colleagueSlot);

        var set = await admin.PutAsJsonAsync(path, new { offerToAgents = 2, priority = 5 });
        Assert.Equal(HttpStatusCode.OK, set.StatusCode);
        var view = await set.Content.ReadFromJsonAsync<QueueSettingsView>();
        Assert.Equal((2, 5, true), (view!.Settings.OfferToAgents, view.Settings.Priority, view.SetAtRuntime));

        var customer = gateway.CustomerConnection();
        _connections.Add(customer);
        await customer.StartAsync();
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", slot.Queue, "Dana", null, "dana@example.com", "http://127.0.0.1/demo/", null, null, null));
        await first.Offers.WaitAsync(o => o.SessionId == start.SessionId);
        await second.Offers.WaitAsync(o => o.SessionId == start.SessionId);

        var reset = await admin.DeleteAsync(path);
        var back = await reset.Content.ReadFromJsonAsync<QueueSettingsView>();
        Assert.Equal((1, 0, false), (back!.Settings.OfferToAgents, back.Settings.Priority, back.SetAtRuntime));
        var agentReset = await (await admin.DeleteAsync($"/api/admin/agents/{colleagueSlot.AgentId}")).Content.ReadFromJsonAsync<AgentSettingsView>();
        Assert.Equal(($"demo/{colleagueSlot.Queue}", 3, (AgentSettings?)null), (Assert.Single(agentReset!.Profile.Queues), agentReset.Profile.Capacity, agentReset.SetAtRuntime));

        var badAgent = await admin.PutAsJsonAsync($"/api/admin/agents/{colleagueSlot.AgentId}", new { capacity = 0 });
        Assert.Equal(HttpStatusCode.BadRequest, badAgent.StatusCode);
        Assert.Contains("Capacity must be 1 to 100", (await badAgent.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
        var unknownQueue = await admin.PutAsJsonAsync($"/api/admin/agents/{colleagueSlot.AgentId}", new { queues = new[] { "demo/zzz" } });
        Assert.Contains("there is no queue 'demo/zzz'", (await unknownQueue.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail);
    }
}
