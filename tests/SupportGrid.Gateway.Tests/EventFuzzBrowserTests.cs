using System.Collections.Concurrent;
using CsCheck;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;
using SupportGrid.Gateway.Hubs;
using SupportGrid.GrainInterfaces;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// Property-based fuzzing (CsCheck) of what the widget and the console parse from the channel, in real Chromium: while a
/// shopper's widget and an agent's console are in a chat, generated messages, guides (pointer, highlight, scroll with
/// generated CSS selectors) and navigations reach the widget from a second console of the same agent, and generated
/// messages, page reports and page activity (clicks with selectors and texts, scrolls, focus) reach the console from a
/// second customer who joined with a join code. Neither page may throw, run injected script or grow injected elements, and
/// both must still chat afterwards.
/// </summary>
public sealed class EventFuzzBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    private const int Iterations = 200;

    private static readonly string[] Hostile =
    [
        "<img src=x onerror=\"window.__pwned='img'\">", "<script>window.__pwned='script'</script>", "<svg onload=\"window.__pwned='svg'\">",
        "javascript:window.__pwned='url'", " JaVaScRiPt:alert(1)", "data:text/html,<script>window.__pwned=1</script>",
        "div[", ":has(", "#1abc", "a[href=\"x\"", "*", "body", "html > body *", "[data-sg]", "::before", "\\", "'\"`",
        "__proto__", "constructor", "toString", "{{constructor.constructor('window.__pwned=1')()}}",
        "\u0000", "\u202e\u0007", "\uD800", "💥👩‍👩‍👧", "\r\n\t", "", " ", new string('x', 3000),
    ];

    private static readonly Gen<string?> Text = Gen.Frequency(
        (3, Gen.String.Select(s => (string?)s)),
        (3, Gen.Int[0, Hostile.Length - 1].Select(i => (string?)Hostile[i])),
        (1, Gen.Const<string?>((string?)null)));

    /// <summary>Selectors: real ones of the demo page, malformed ones (querySelector throws on them), and any text.</summary>
    private static readonly Gen<string?> Selector = Gen.Frequency(
        (2, Gen.OneOf(Gen.Const("h1"), Gen.Const("#add-to-cart"), Gen.Const("main p"), Gen.Const("[data-sg]"), Gen.Const("#sg-widget"),
            Gen.Const("div["), Gen.Const(":has("), Gen.Const("#1abc"), Gen.Const("a[href=\"x\""), Gen.Const("::before"), Gen.Const("\\"),
            Gen.Const("p:nth-child(")).Select(s => (string?)s)),
        (1, Text));

    private static readonly Gen<string?> Kind = Gen.Frequency(
        (3, Gen.OneOf(Gen.Const("pointer"), Gen.Const("highlight"), Gen.Const("scroll"), Gen.Const("clear"), Gen.Const("click"),
            Gen.Const("focus"), Gen.Const("viewport"), Gen.Const("visibility")).Select(s => (string?)s)),
        (1, Text));

    private static readonly Gen<int?> Number = Gen.Frequency(
        (3, Gen.Int[-100, 5000].Select(i => (int?)i)), (1, Gen.Int.Select(i => (int?)i)), (1, Gen.Const<int?>((int?)null)));

    [Fact]
    public async Task GeneratedChannelEventsNeitherBreakNorInjectIntoTheWidgetOrTheConsole()
    {
        var shop = await PageAsync("shopper");
        var errors = new ConcurrentQueue<string>();
        shop.PageError += (_, e) => errors.Enqueue($"widget: {e}");
        // A handler that throws is caught by the SignalR client and logged as a console error, not thrown to the page.
        // (The demo shop has no favicon: the browser's own request for one is not the widget's doing.)
        shop.Console += (_, m) => { if (m.Type == "error" && !m.Location.Contains("/favicon.ico")) errors.Enqueue($"widget console: {m.Text} ({m.Location})"); };
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await StartChatAsync(shop, "Dana");
        var console = await AvailableConsoleAsync();
        console.PageError += (_, e) => errors.Enqueue($"console: {e}");
        console.Console += (_, m) => { if (m.Type == "error") errors.Enqueue($"console console: {m.Text} ({m.Location})"); };
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        var chat = console.Locator("[data-sg=chat]");
        await Assertions.Expect(chat).ToContainTextAsync("Dana");

        // A second console of the same agent, and a second customer who joins with the agent's join code.
        await using var bot = Gateway.AgentConnection(await Gateway.TokenAsync("bob"));
        await bot.StartAsync();
        var channel = (await bot.InvokeAsync<AgentSnapshot>("GetState")).Chats.Single().ChannelId;
        var code = await bot.InvokeAsync<JoinCode>("CreateJoinCode", channel);
        await using var joiner = Gateway.CustomerConnection();
        await joiner.StartAsync();
        await joiner.InvokeAsync<JoinChatResult>("JoinChat", new JoinChatInput("demo", code.Code, "Jo", Url("/demo/"), "Demo shop"));

        var calls = Gen.Int[0, 7].Select(Text, Text, Kind, Number, Number, Gen.Bool, Selector,
            (kind, a, b, k, x, y, flag, selector) => (kind, a, b, k, x, y, flag, selector));
        var accepted = 0;
        var refused = 0;
        await calls.SampleAsync(async call =>
        {
            var (kind, a, b, k, x, y, flag, selector) = call;
            Func<Task> invoke = kind switch
            {
                0 => () => bot.InvokeAsync<SendResult>("SendMessage", channel, a, Guid.NewGuid().ToString()),
                1 or 6 => () => bot.InvokeAsync("GuideCustomers", channel, new GuideInput(flag ? "highlight" : "scroll", x, y, selector)),
                7 => () => bot.InvokeAsync("GuideCustomers", channel, new GuideInput(k, x, y, selector)),
                // Foreign targets only (a target on the shop's own origin would move the shopper's page away): refused, or
                // offered to the shopper as a link to follow.
                2 => () => bot.InvokeAsync<SendResult>("NavigateCustomers", channel, flag ? a : "https://elsewhere.example/" + Uri.EscapeDataString(a ?? "")),
                3 => () => joiner.InvokeAsync<SendResult>("SendMessage", a, Guid.NewGuid().ToString()),
                4 => () => joiner.InvokeAsync("ReportPage", new PageReportInput(flag ? a : Url("/demo/") + Uri.EscapeDataString(a ?? ""), b, 0, false)),
                _ => () => joiner.InvokeAsync("PageActivity", new PageActivityInput(k, x, y, x, y, flag, selector, b)),
            };
            try
            {
                await invoke();
                accepted++;
            }
            catch (HubException)
            {
                refused++; // bad input is refused with a reason (the Abuse suite checks the refusals themselves)
            }
            // Pacing, not synchronisation: two calls a turn stay under the per-connection rate limit (20 a second), which
            // would otherwise refuse them and, past 20 refusals, close the connection and cool the address down.
            await Task.Delay(40);
        }, iter: Iterations, threads: 1);
        Output.WriteLine($"{accepted} calls accepted, {refused} refused");
        Assert.True(accepted > Iterations / 3, $"only {accepted} calls got through: the generator is too hostile to reach the pages");

        // Both pages still chat.
        await chat.Locator("[data-sg=chat-input]").FillAsync("Still with you?");
        await chat.Locator("[data-sg=chat-send]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=messages]")).ToContainTextAsync("Still with you?");
        await shop.Locator("[data-sg=message-input]").FillAsync("Yes, all good");
        await shop.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Yes, all good");

        Assert.True(errors.IsEmpty, string.Join("\n", errors));
        foreach (var page in new[] { console, shop })
        {
            Assert.Null(await page.EvaluateAsync<string?>("() => window.__pwned == null ? null : String(window.__pwned)"));
            Assert.Equal(0, await page.Locator("img[src=x], svg[onload], script:not([src])").CountAsync());
        }
    }
}
