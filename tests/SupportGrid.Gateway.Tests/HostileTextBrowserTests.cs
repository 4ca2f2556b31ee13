using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// Text that people control is shown as text, never as markup, in real Chromium: the shopper's name, page title and
/// messages in the agent console, the agent's messages in the shopper's widget. Each hostile string would run script (an
/// image that fails to load runs its onerror) or add elements if it were ever put into the page as HTML.
/// </summary>
public sealed class HostileTextBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    private const string Name = "<img src=x onerror=\"window.__pwned='name'\">Dana";
    private const string Title = "<img src=x onerror=\"window.__pwned='title'\">Kettle";
    private const string CustomerText = "<script>window.__pwned='script'</script><b data-hostile>bold?</b><img src=x onerror=\"window.__pwned='message'\">";
    private const string AgentText = "<img src=x onerror=\"window.__pwned='agent'\"><a data-hostile href=\"javascript:alert(1)\">click</a>";

    [Fact]
    public async Task MarkupAShopperTypesShowsAsTextInTheConsoleAndMarkupAnAgentTypesShowsAsTextInTheWidget()
    {
        var shop = await PageAsync("shopper");
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await shop.EvaluateAsync("title => { document.title = title; }", Title);
        await StartChatAsync(shop, Name);

        var console = await AvailableConsoleAsync();
        var offer = console.Locator("[data-sg=offer]");
        await Assertions.Expect(offer).ToContainTextAsync(Name);
        await Assertions.Expect(offer).ToContainTextAsync(Title);
        await offer.Locator("[data-sg=accept]").ClickAsync();
        var chat = console.Locator("[data-sg=chat]");
        await Assertions.Expect(chat).ToContainTextAsync(Name);

        await shop.Locator("[data-sg=message-input]").FillAsync(CustomerText);
        await shop.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync(CustomerText);

        await chat.Locator("[data-sg=chat-input]").FillAsync(AgentText);
        await chat.Locator("[data-sg=chat-send]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=messages]")).ToContainTextAsync(AgentText);

        // Shown as text: none of the markup became an element, and no handler ran, on either side.
        foreach (var page in new[] { console, shop })
        {
            Assert.Equal(0, await page.Locator("img[src=x]").CountAsync());
            Assert.Equal(0, await page.Locator("[data-hostile]").CountAsync());
            Assert.Null(await page.EvaluateAsync<string?>("() => window.__pwned ?? null"));
        }
    }
}
