using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Tests;

/// <summary>Every session leaves a durable record that supervisors can read and export.</summary>
public sealed class SessionRecordsApiTests(GatewayFixture gateway) : IClassFixture<GatewayFixture>, IAsyncLifetime
{
    private readonly GatewayFixture.Slot _slot = gateway.NextSlot();
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

    /// <summary>A whole chat through the real hubs: request, an offer declined by nobody, accept, two messages, end.
    /// <paramref name="before"/> runs on the customer's connection before it asks for the chat.</summary>
    private async Task<(StartChatResult Start, AcceptResult Accepted)> CompletedChatAsync(string customerName, Func<HubConnection, Task>? before = null)
    {
        var agent = gateway.AgentConnection(await gateway.TokenAsync(_slot.AgentId, _slot.Password));
        var customer = gateway.CustomerConnection();
        _connections.AddRange([agent, customer]);
        var offers = agent.Inbox<ChatOffer>("Offer");
        var ended = customer.Inbox<string, bool>("ChatEnded");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        await customer.StartAsync();
        if (before is not null)
            await before(customer);
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, customerName, "555-0142", null, "http://127.0.0.1/demo/products/blender.html", "Blender", null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);
        await customer.InvokeAsync<SendResult>("SendMessage", "Which blender is quietest?", "c-1");
        await agent.InvokeAsync<SendResult>("SendMessage", accepted.ChannelId, "The Silent Pro.", "a-1");
        await agent.InvokeAsync("EndChat", accepted.ChannelId);
        await ended.WaitAsync();
        return (start, accepted);
    }

    [Fact]
    public async Task ASupervisorReadsTheWholeRecordOfAFinishedChat()
    {
        var (start, accepted) = await CompletedChatAsync("Rita Record");
        using var http = await SignedInAsync(GatewayFixture.Supervisor);

        var record = await http.GetFromJsonAsync<SessionRecord>($"/api/sessions/{start.SessionId}");

        Assert.NotNull(record);
        var summary = record.Summary;
        Assert.Equal(("Rita Record", "555-0142", "127.0.0.1", "demo/" + _slot.Queue), (summary.Customer.Name, summary.Customer.Phone, summary.Customer.Ip, summary.Queue));
        Assert.Equal("http://127.0.0.1/demo/products/blender.html", summary.PageUrl);
        Assert.Equal((SessionOutcome.Ended, accepted.ChannelId), (summary.Outcome, summary.ChannelId));
        Assert.Equal([_slot.AgentId], summary.Agents);
        Assert.True(summary.RequestedAt <= summary.AcceptedAt && summary.AcceptedAt <= summary.EndedAt);
        Assert.Equal([StepKinds.Requested, StepKinds.Offered, StepKinds.Accepted, StepKinds.Ended], record.Steps.Select(s => s.Kind));
        Assert.Equal(_slot.AgentId, record.Steps.Single(s => s.Kind == StepKinds.Offered).AgentId);
        Assert.Equal(["Which blender is quietest?", "The Silent Pro."], record.Transcript.Where(e => e.Type == EventTypes.Message).Select(e => e.Text));
        Assert.Equal(EventTypes.Ended, record.Transcript[^1].Type);
    }

    [Fact]
    public async Task RecordsAreListedByQueueAndAgentAndExportedAsCsv()
    {
        var (start, _) = await CompletedChatAsync("=HYPERLINK(\"http://evil.example\")");
        using var http = await SignedInAsync(GatewayFixture.Supervisor);

        var byQueue = await http.GetFromJsonAsync<List<SessionSummary>>($"/api/sessions?queue=demo/{_slot.Queue}");
        Assert.Equal(start.SessionId, Assert.Single(byQueue!).SessionId);
        var byAgent = await http.GetFromJsonAsync<List<SessionSummary>>($"/api/sessions?agent={_slot.AgentId}&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(-1).ToString("O"))}");
        Assert.Equal(start.SessionId, Assert.Single(byAgent!).SessionId);
        var future = await http.GetFromJsonAsync<List<SessionSummary>>($"/api/sessions?queue=demo/{_slot.Queue}&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddHours(1).ToString("O"))}");
        Assert.Empty(future!);

        var csv = await http.GetAsync($"/api/sessions.csv?queue=demo/{_slot.Queue}");
        Assert.Equal("text/csv", csv.Content.Headers.ContentType?.MediaType);
        var lines = (await csv.Content.ReadAsStringAsync()).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("session_id,site,queue,customer_name", lines[0]);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith(start.SessionId + ",demo,demo/" + _slot.Queue + ",\"'=HYPERLINK(\"\"http://evil.example\"\")\"", lines[1]);
    }

    [Fact]
    public async Task AShopperRefusedWhileNobodyWasAvailableWhoAsksAgainGetsARecordOfTheirOwn()
    {
        var (start, _) = await CompletedChatAsync("Tess Twice", async customer =>
        {
            var refused = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat",
                new StartChatInput("demo", GatewayFixture.OfflineQueue, "Tess Twice", null, null, "http://127.0.0.1/demo/", null, null, null)));
            Assert.Contains(ErrorCodes.Offline, refused.Message);
        });
        using var http = await SignedInAsync(GatewayFixture.Supervisor);

        // The chat that happened has its own record, whole; the refusal keeps its own (the same connection asked twice).
        var record = await http.GetFromJsonAsync<SessionRecord>($"/api/sessions/{start.SessionId}");
        Assert.Equal((SessionOutcome.Ended, "demo/" + _slot.Queue), (record!.Summary.Outcome, record.Summary.Queue));
        Assert.Equal([StepKinds.Requested, StepKinds.Offered, StepKinds.Accepted, StepKinds.Ended], record.Steps.Select(s => s.Kind));
        var refusals = await http.GetFromJsonAsync<List<SessionSummary>>($"/api/sessions?queue=demo/{GatewayFixture.OfflineQueue}&limit=500");
        var refusal = Assert.Single(refusals!, s => s.Customer.Name == "Tess Twice");
        Assert.NotEqual(start.SessionId, refusal.SessionId);
        Assert.Equal(SessionOutcome.RefusedOffline, refusal.Outcome);
    }

    [Fact]
    public async Task OnlySupervisorsReadRecordsAndBadQueriesSayWhy()
    {
        using var anonymous = gateway.Http();
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/api/sessions")).StatusCode);
        using var agent = await SignedInAsync(_slot.AgentId);
        Assert.Equal(HttpStatusCode.Forbidden, (await agent.GetAsync("/api/sessions")).StatusCode);

        using var supervisor = await SignedInAsync(GatewayFixture.Supervisor);
        var badDate = await supervisor.GetAsync("/api/sessions?from=yesterday-ish");
        Assert.Equal(HttpStatusCode.BadRequest, badDate.StatusCode);
        Assert.Contains("'from' is not a date/time", await badDate.Content.ReadAsStringAsync());
        var badId = await supervisor.GetAsync("/api/sessions/not-a-guid");
        Assert.Equal(HttpStatusCode.BadRequest, badId.StatusCode);
        var unknown = await supervisor.GetAsync($"/api/sessions/{Guid.NewGuid()}");
        Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
        Assert.Equal("application/problem+json", unknown.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task WhenNobodyIsAvailableTheShopperIsToldSoAndCanLeaveAMessageThatSupervisorsRead()
    {
        var customer = gateway.CustomerConnection();
        _connections.Add(customer);
        await customer.StartAsync();

        var availability = await customer.InvokeAsync<QueueAvailability>("GetAvailability", "demo", GatewayFixture.OfflineQueue);
        Assert.Equal((false, "no_agents"), (availability.Open, availability.Reason));
        var refused = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", GatewayFixture.OfflineQueue, "Olga", null, null, "http://127.0.0.1/demo/", null, null, null)));
        Assert.Contains(ErrorCodes.Offline + ": No one is available", refused.Message);

        var noContact = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<LeaveMessageResult>("LeaveMessage",
            new LeaveMessageInput("demo", GatewayFixture.OfflineQueue, "Olga", null, null, "Call me", "http://127.0.0.1/demo/", null)));
        Assert.Contains("email address or a phone number", noContact.Message);
        var left = await customer.InvokeAsync<LeaveMessageResult>("LeaveMessage",
            new LeaveMessageInput("demo", GatewayFixture.OfflineQueue, "Olga", "olga@example.com", null, "Do you deliver on Sundays?", "http://127.0.0.1/demo/checkout.html", "Checkout"));

        using var http = await SignedInAsync(GatewayFixture.Supervisor);
        var record = await http.GetFromJsonAsync<SessionRecord>($"/api/sessions/{left.MessageId}");
        Assert.Equal((SessionOutcome.OfflineMessage, "olga@example.com", "demo/" + GatewayFixture.OfflineQueue),
            (record!.Summary.Outcome, record.Summary.Customer.Email, record.Summary.Queue));
        Assert.Equal("Do you deliver on Sundays?", Assert.Single(record.Transcript).Text);
        Assert.Equal([StepKinds.Requested, StepKinds.OfflineMessage], record.Steps.Select(s => s.Kind));
    }
}
