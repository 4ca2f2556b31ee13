using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// A shopper's message whose answer reaches the widget only after the tab has seen the chat end (the agent ended it
/// while the message was on its way). The message is stored, so the widget must show it once, as sent, never as
/// "Not sent". Real Chromium; the answer is held back by Playwright's WebSocket routing, which forwards every other
/// frame as it comes. Its own gateway: the demo agent bob and the "sales" queue belong to this class alone.
/// </summary>
public sealed class MessageAnsweredAfterEndBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    private const char RecordSeparator = '\x1e';

    [Fact]
    public async Task AMessageAnsweredAfterTheChatEndedInTheTabIsShownOnceAsSent()
    {
        const string text = "Is the copper kettle in stock?";
        var shop = await PageAsync("shopper");
        var held = new TaskCompletionSource<(IWebSocketRoute Page, string Record, Task Closed)>(TaskCreationOptions.RunContinuationsAsynchronously);
        var holding = false;
        await shop.RouteWebSocketAsync(new Regex("/hubs/customer"), page =>
        {
            var server = page.ConnectToServer();
            // When the page closes this connection (the widget stops it), tell the server too.
            var closed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            page.OnClose((code, reason) =>
            {
                closed.TrySetResult();
                _ = server.CloseAsync(new() { Code = code, Reason = reason });
            });
            server.OnMessage(frame =>
            {
                if (frame.Text is not { } frameText)
                {
                    page.Send(frame.Binary ?? []);
                    return;
                }
                // A frame may carry several SignalR records; only the answer (type 3) to the SendMessage with our text is held.
                var pass = new StringBuilder();
                foreach (var record in frameText.Split(RecordSeparator, StringSplitOptions.RemoveEmptyEntries))
                {
                    if (Volatile.Read(ref holding) && record.Contains("\"type\":3") && record.Contains(text) && !held.Task.IsCompleted)
                        held.TrySetResult((page, record + RecordSeparator, closed.Task));
                    else
                        pass.Append(record).Append(RecordSeparator);
                }
                if (pass.Length > 0)
                    page.Send(pass.ToString());
            });
        });
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await StartChatAsync(shop, "Flo Inflight");

        var console = await AvailableConsoleAsync();
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");

        // The shopper sends; the server stores the message and answers, but the answer is held on its way to the page.
        Volatile.Write(ref holding, true);
        await shop.Locator("[data-sg=message-input]").FillAsync(text);
        await shop.Locator("[data-sg=send]").ClickAsync();
        var (pageSide, answer, connectionClosed) = await held.Task.WaitAsync(TimeSpan.FromSeconds(30));
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync(text);

        // The agent ends the chat; the shopper's tab sees the end before the answer to its message.
        await chat.Locator("[data-sg=end-chat]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=ended]")).ToBeVisibleAsync();

        // The widget keeps the connection for the answer still to come.
        Assert.False(connectionClosed.IsCompleted, "the widget closed its connection with a message still awaiting its answer");
        pageSide.Send(answer);

        // Handled: no line is pending any more, and the widget closes the connection (nothing else to wait for).
        var messages = shop.Locator("[data-sg=messages]");
        await Assertions.Expect(messages.Locator(".sg-pending")).ToHaveCountAsync(0);
        await connectionClosed.WaitAsync(TimeSpan.FromSeconds(30));
        // Once, and not as failed: the message was stored (the agent has it) before the chat ended.
        await Assertions.Expect(messages.Locator(".sg-message").Filter(new() { HasText = text })).ToHaveCountAsync(1);
        await Assertions.Expect(messages.Locator(".sg-failed")).ToHaveCountAsync(0);
        await Assertions.Expect(messages).Not.ToContainTextAsync("Not sent");
    }
}
