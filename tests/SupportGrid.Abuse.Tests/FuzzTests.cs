using System.Text.RegularExpressions;
using CsCheck;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>
/// Property-based fuzzing (CsCheck) of the hub methods' arguments in a live chat: thousands of generated calls, each either
/// succeeds or gets a hub error with a reason code (never a server error), the connections stay up, and a refused call
/// changes nothing (the channel holds exactly the events of the calls that succeeded).
/// </summary>
public sealed partial class FuzzTests(FuzzGateway gateway) : IClassFixture<FuzzGateway>
{
    private const int Iterations = 2000;

    private static readonly Gen<string?> Text = Gen.Frequency(
        (4, Gen.String.Select(s => (string?)s)),
        (2, Gen.String[Gen.Char, 0, 10].Select(s => (string?)s)),
        (1, Gen.Int[4000, 4100].Select(n => (string?)new string('x', n))),
        (1, Gen.OneOf("http://127.0.0.1/demo/", "JaVaScRiPt:alert(1)", " \u0001javascript:x", "data:text/html,x", "https://a.example/" + new string('p', 2100),
            "", " ", "\u0000", "\uD800", "=cmd|' /C calc'!A0", "<img src=x onerror=alert(1)>", "../../etc/passwd").Select(s => (string?)s)),
        (1, Gen.Const<string?>((string?)null)));

    private static readonly Gen<int?> Number = Gen.Frequency((3, Gen.Int.Select(i => (int?)i)), (1, Gen.Const<int?>((int?)null)));

    [Fact]
    public async Task GeneratedHubCallsGetAResultOrACodedHubErrorAndRefusalsChangeNothing()
    {
        await using var chat = await ChatAsync();
        var (agent, customer, start, channel) = (chat.Agent, chat.Customer, chat.Start, chat.ChannelId);
        var before = await agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, 0L);

        var calls = Gen.Int[0, 9].Select(Text, Text, Text, Text, Number, Number, Gen.Bool, (kind, a, b, c, d, x, y, flag) => (kind, a, b, c, d, x, y, flag));
        var succeeded = new Dictionary<string, int>();
        var sentIds = new HashSet<string>(); // a resent clientMessageId is answered with the first send's seq, no new event
        var refused = 0;
        await calls.SampleAsync(async call =>
        {
            var (kind, a, b, c, d, x, y, flag) = call;
            Func<Task> invoke = kind switch
            {
                0 => () => customer.InvokeAsync<SendResult>("SendMessage", a, b),
                1 => () => customer.InvokeAsync("ReportPage", new PageReportInput(a, b, x ?? 0, flag)),
                2 => () => customer.InvokeAsync("PageActivity", new PageActivityInput(a, x, y, x, y, flag, b, c)),
                3 => () => customer.InvokeAsync<QueueAvailability>("GetAvailability", a, b),
                4 => () => customer.InvokeAsync<StartChatResult>("StartChat", new StartChatInput(a, b, c, d, a, b, c, d, a, b)),
                5 => () => customer.InvokeAsync<ResumeResult>("Resume", a, (long)(x ?? 0)),
                6 => () => agent.InvokeAsync<SendResult>("SendMessage", channel, a, b),
                7 => () => agent.InvokeAsync<SendResult>("NavigateCustomers", channel, a),
                8 => () => agent.InvokeAsync("TransferChat", channel, new TransferInput(a, b, c)),
                _ => () => agent.InvokeAsync("SetStatus", a),
            };
            var key = kind switch { 0 or 6 => EventTypes.Message, 7 => EventTypes.Navigate, _ => "other" };
            try
            {
                await invoke();
                if (key != EventTypes.Message || sentIds.Add($"{kind}:{b}"))
                    succeeded[key] = succeeded.GetValueOrDefault(key) + 1;
            }
            catch (HubException e)
            {
                Assert.Matches(CodedError(), e.Message);
                refused++;
            }
            catch (InvalidOperationException e) when (!chat.Closed.IsEmpty)
            {
                throw chat.ClosedError(e, kind);
            }
        }, iter: Iterations, threads: 1);

        Assert.Equal(HubConnectionState.Connected, customer.State);
        Assert.Equal(HubConnectionState.Connected, agent.State);
        Assert.True(refused > Iterations / 4, $"only {refused} refusals: the generator is too tame");
        var after = await agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, 0L);
        var added = after.Skip(before.Count).ToList();
        Assert.Equal(succeeded.GetValueOrDefault(EventTypes.Message), added.Count(e => e.Type == EventTypes.Message));
        Assert.Equal(succeeded.GetValueOrDefault(EventTypes.Navigate), added.Count(e => e.Type == EventTypes.Navigate));
        Assert.All(added, e => Assert.Contains(e.Type, new[] { EventTypes.Message, EventTypes.Navigate }));
        // The real chat still works.
        await customer.InvokeAsync<SendResult>("SendMessage", "still here", "final");
    }

    [Fact]
    public async Task EveryOtherHubMethodGetsAResultOrACodedHubErrorAndRefusalsChangeNothing()
    {
        // The methods the test above leaves out: join codes, offline messages, page views, typing, guiding, invitations,
        // offers and reading events, with ids drawn from this chat, from nowhere, and from nothing.
        await using var chat = await ChatAsync();
        var (agent, customer, start, channel) = (chat.Agent, chat.Customer, chat.Start, chat.ChannelId);
        await using var stranger = gateway.Customer(gateway.NextAddress()); // no chat of its own: JoinChat and LeaveMessage
        await stranger.StartAsync();
        var before = await agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, 0L);

        var ids = Gen.OneOf(Gen.Const(channel), Gen.Const(start.SessionId), Gen.Const(Guid.Empty), Gen.Guid);
        var calls = Gen.Int[0, 16].Select(Text, Text, Text, Number, Number, ids, ids, Gen.Bool, (kind, a, b, c, x, y, id, other, flag) => (kind, a, b, c, x, y, id, other, flag));
        var navigations = 0;
        var refused = 0;
        await calls.SampleAsync(async call =>
        {
            var (kind, a, b, c, x, y, id, other, flag) = call;
            Func<Task> invoke = kind switch
            {
                0 => () => stranger.InvokeAsync<JoinChatResult>("JoinChat", new JoinChatInput(a, b, c, a, b)),
                1 => () => stranger.InvokeAsync<LeaveMessageResult>("LeaveMessage", new LeaveMessageInput(a, b, c, a, b, c, a, b)),
                2 => () => customer.InvokeAsync("PageView", new PageViewInput(a, x ?? 0, y ?? 0, x ?? 0, b, c, a)),
                3 => () => customer.InvokeAsync("SetTyping", flag),
                4 => () => agent.InvokeAsync("SetTyping", id, flag),
                5 => () => agent.InvokeAsync<SendResult>("NavigateCustomer", id, other, a),
                6 => () => agent.InvokeAsync("GuideCustomers", id, new GuideInput(a, x, y, b, flag ? other : null)),
                7 => () => agent.InvokeAsync("WatchPage", id, other, flag),
                8 => () => agent.InvokeAsync<JoinCode>("CreateJoinCode", id),
                9 => () => agent.InvokeAsync<IReadOnlyList<CustomerPresence>>("GetCustomers", id),
                10 => () => agent.InvokeAsync<AcceptResult>("AcceptOffer", other),
                11 => () => agent.InvokeAsync<AcceptResult>("AcceptOfferInto", other, id),
                12 => () => agent.InvokeAsync("DeclineOffer", other),
                13 => () => agent.InvokeAsync("InviteColleague", id, new InviteInput(a, b)),
                14 => () => agent.InvokeAsync<AcceptResult>("AcceptInvitation", id),
                15 => () => agent.InvokeAsync("DeclineInvitation", id),
                _ => () => agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", id, (long)(x ?? 0)),
            };
            try
            {
                await invoke();
                if (kind == 5)
                    navigations++;
            }
            catch (HubException e)
            {
                Assert.Matches(CodedError(), e.Message);
                refused++;
            }
            catch (InvalidOperationException e) when (!chat.Closed.IsEmpty)
            {
                throw chat.ClosedError(e, kind);
            }
        }, iter: Iterations, threads: 1);

        Assert.Equal(HubConnectionState.Connected, customer.State);
        Assert.Equal(HubConnectionState.Connected, agent.State);
        Assert.Equal(HubConnectionState.Connected, stranger.State);
        Assert.True(refused > Iterations / 4, $"only {refused} refusals: the generator is too tame");
        // Of all these, only a navigation the channel accepted adds an event; refused calls add nothing.
        var added = (await agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, 0L)).Skip(before.Count).ToList();
        Assert.All(added, e => Assert.Equal(EventTypes.Navigate, e.Type));
        Assert.Equal(navigations, added.Count);
        // The real chat still works.
        await customer.InvokeAsync<SendResult>("SendMessage", "still here", "final");
        Assert.Equal("still here", (await agent.InvokeAsync<IReadOnlyList<ChannelEvent>>("GetEvents", channel, 0L))[^1].Text);
    }

    /// <summary>An agent and a customer of the fuzz gateway in an open chat, each from an address of its own.</summary>
    private sealed record Chat(HubConnection Agent, HubConnection Customer, StartChatResult Start, Guid ChannelId) : IAsyncDisposable
    {
        public System.Collections.Concurrent.ConcurrentQueue<string> Closed { get; } = new();

        /// <summary>A call failed because a connection had closed: say which and why (the server's close message).</summary>
        public InvalidOperationException ClosedError(InvalidOperationException e, int kind) =>
            new($"{e.Message} after call kind {kind}; {string.Join("; ", Closed)}", e);

        public async ValueTask DisposeAsync()
        {
            await Agent.DisposeAsync();
            await Customer.DisposeAsync();
        }
    }

    private async Task<Chat> ChatAsync()
    {
        var slot = gateway.NextSlot();
        var agentAddress = gateway.NextAddress();
        var agent = gateway.Agent(await gateway.TokenAsync(slot.AgentId, agentAddress), agentAddress);
        var offers = agent.Inbox<ChatOffer>("Offer");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        var customer = gateway.Customer(gateway.NextAddress());
        await customer.StartAsync();
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", slot.Queue, "Dana", null, null, "http://127.0.0.1/demo/", null, null, null));
        await offers.WaitAsync(o => o.SessionId == start.SessionId);
        var channel = (await agent.InvokeAsync<AcceptResult>("AcceptOffer", start.SessionId)).ChannelId;
        var chat = new Chat(agent, customer, start, channel);
        // Why a connection closed, for the failure message. (It found, in session 5, why about one run in eight failed:
        // a generated call over 32 KB closed the customer's connection, because the hubs' own size limits never applied.)
        customer.Closed += e => { chat.Closed.Enqueue($"customer: {e?.ToString() ?? "closed without an error"}"); return Task.CompletedTask; };
        agent.Closed += e => { chat.Closed.Enqueue($"agent: {e?.ToString() ?? "closed without an error"}"); return Task.CompletedTask; };
        return chat;
    }

    /// <summary>A refusal with a reason code; "An unexpected error occurred" alone (a server fault) does not match.</summary>
    [GeneratedRegex(@"HubException: [a-z_]+: ")]
    private static partial Regex CodedError();
}
