using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>Only http(s) targets, after the URL is parsed.</summary>
public sealed class NavigationTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Theory]
    [InlineData("JaVaScRiPt:alert(1)")]
    [InlineData(" javascript:alert(1)")]
    [InlineData("\u0001javascript:alert(1)")]
    [InlineData("java\tscript:alert(1)")]
    [InlineData("data:text/html,<script>alert(1)</script>")]
    [InlineData("vbscript:msgbox(1)")]
    [InlineData("//evil.example/")]
    [InlineData("file:///etc/passwd")]
    public async Task OnlyHttpAndHttpsTargetsAreAccepted(string url)
    {
        var agentAddress = gateway.NextAddress();
        await using var agent = gateway.Agent(await gateway.TokenAsync(_slot.AgentId, agentAddress), agentAddress);
        var offers = agent.Inbox<ChatOffer>("Offer");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        await using var customer = gateway.Customer(gateway.NextAddress());
        var navigations = customer.Inbox<NavigateCommand>("Navigate");
        await customer.StartAsync();

        var refusedStart = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Dana", null, null, url, null, null, null)));
        Assert.Contains(ErrorCodes.InvalidUrl + ":", refusedStart.Message);
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Dana", null, null, "http://127.0.0.1/demo/", null, null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId);

        var refusedNavigation = await Assert.ThrowsAsync<HubException>(() => agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, url));
        Assert.Contains(ErrorCodes.InvalidUrl + ":", refusedNavigation.Message);
        var refusedReport = await Assert.ThrowsAsync<HubException>(() => customer.InvokeAsync("ReportPage", new PageReportInput(url, null, 0, false)));
        Assert.Contains(ErrorCodes.InvalidUrl + ":", refusedReport.Message);
        // Nothing was pushed: the next navigation the customer sees is the good one.
        var good = await agent.InvokeAsync<SendResult>("NavigateCustomers", accepted.ChannelId, "http://127.0.0.1/demo/cart");
        Assert.Equal(good.Seq, (await navigations.WaitAsync()).Seq);
        await _bystander.StillChattingAsync();
    }
}

/// <summary>Malformed and hostile frames, sent as raw WebSocket frames: a hub error or that one connection closed.</summary>
public sealed class FaultTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private const char Separator = '\u001e';
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    public static TheoryData<string, string> Frames => new()
    {
        { "malformed json", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"SendMessage\",\"arguments\":[" },
        { "not json at all", "\u0000\u0001garbage\u00ff" },
        { "wrong argument type", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"SetTyping\",\"arguments\":[{\"a\":[1,2]}]}" },
        { "wrong argument count", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"SendMessage\",\"arguments\":[]}" },
        { "huge number", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"Resume\",\"arguments\":[\"x\"," + new string('9', 5000) + "]}" },
        { "huge exponent", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"GetAvailability\",\"arguments\":[1e999999,\"q\"]}" },
        { "deep nesting", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"StartChat\",\"arguments\":[" + new string('[', 5000) + new string(']', 5000) + "]}" },
        { "unknown method", "{\"type\":1,\"invocationId\":\"1\",\"target\":\"DropAllTables\",\"arguments\":[]}" },
        { "stream to a non-stream method", "{\"type\":4,\"invocationId\":\"1\",\"target\":\"SendMessage\",\"arguments\":[\"a\",\"b\"]}" },
    };

    [Theory]
    [MemberData(nameof(Frames))]
    public async Task AHostileFrameGetsAHubErrorOrClosesThatConnectionOnly(string what, string frame)
    {
        using var socket = new ClientWebSocket();
        socket.Options.SetRequestHeader("X-Forwarded-For", gateway.NextAddress());
        var ws = new UriBuilder(gateway.BaseAddress) { Scheme = "ws", Path = "/hubs/customer" }.Uri;
        await socket.ConnectAsync(ws, CancellationToken.None);
        await SendAsync(socket, "{\"protocol\":\"json\",\"version\":1}" + Separator);
        Assert.Equal("{}", (await ReceiveAsync(socket))?.Single());

        await SendAsync(socket, frame + Separator);
        var answer = await FirstAnswerAsync(socket);
        // Either a completion carrying an error for invocation 1, or a close message (type 7), or the socket closed.
        Assert.True(answer is null || answer.Contains("\"error\"") || answer.Contains("\"type\":7"), $"{what}: {answer}");
        Assert.DoesNotContain("\"result\"", answer ?? "");

        // The server stays up and every other chat goes on.
        await using var fresh = gateway.Customer(gateway.NextAddress());
        await fresh.StartAsync();
        await fresh.InvokeAsync<QueueAvailability>("GetAvailability", "demo", "t0");
        await _bystander.StillChattingAsync();
    }

    /// <summary>The first message that is not a ping (type 6), or null when the server closed the socket.</summary>
    private static async Task<string?> FirstAnswerAsync(ClientWebSocket socket)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (true)
        {
            var messages = await ReceiveAsync(socket, timeout.Token);
            if (messages is null)
                return null;
            if (messages.FirstOrDefault(m => !m.Contains("\"type\":6")) is { } answer)
                return answer;
        }
    }

    private static Task SendAsync(ClientWebSocket socket, string text) =>
        socket.SendAsync(Encoding.UTF8.GetBytes(text), WebSocketMessageType.Text, true, CancellationToken.None);

    private static async Task<string[]?> ReceiveAsync(ClientWebSocket socket, CancellationToken cancel = default)
    {
        var buffer = new byte[64 * 1024];
        using var text = new MemoryStream();
        WebSocketReceiveResult result;
        try
        {
            do
            {
                result = await socket.ReceiveAsync(buffer, cancel);
                if (result.MessageType == WebSocketMessageType.Close)
                    return null;
                text.Write(buffer, 0, result.Count);
            }
            while (!result.EndOfMessage);
        }
        catch (WebSocketException)
        {
            return null;
        }
        return Encoding.UTF8.GetString(text.ToArray()).Split(Separator, StringSplitOptions.RemoveEmptyEntries);
    }
}
