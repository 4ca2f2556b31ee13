using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// The agent shows the shopper an element of their page (an outline, a scroll to it), the shopper's scroll and clicks show
/// in the console, and a second waiting shopper is accepted into the same chat, in real Chromium.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class CoBrowseBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task TheAgentsHighlightAppearsOnTheShoppersPageAndTheShoppersScrollAndClickAppearInTheConsole()
    {
        // A short window, so that the kettle page scrolls.
        var shop = await PageAsync("shopper", 1000, 420);
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await StartChatAsync(shop, "Dana");

        var console = await AvailableConsoleAsync("agent");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");
        var customer = chat.Locator("[data-sg=customer]");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("kettle.html");
        await shop.Locator("[data-sg=minimize]").ClickAsync(); // the panel would cover the page

        // The agent outlines the price: the outline appears around it on the shopper's page.
        await chat.Locator("[data-sg=guide-selector]").FillAsync("article.product p.price");
        await chat.Locator("[data-sg=guide-highlight]").ClickAsync();
        var outline = shop.Locator("[data-sg=agent-highlight]");
        await Assertions.Expect(outline).ToBeVisibleAsync();
        await Assertions.Expect(outline).ToContainTextAsync("Bob");
        var price = (await shop.Locator("p.price").BoundingBoxAsync())!;
        var box = (await outline.BoundingBoxAsync())!;
        Assert.InRange(box.X, price.X - 8, price.X);
        Assert.InRange(box.Y, price.Y - 8, price.Y);
        Assert.InRange(box.Width, price.Width, price.Width + 16);

        // The agent scrolls the shopper to the footer; the shopper's page scrolls and the console sees where to.
        Assert.Equal(0, await shop.EvaluateAsync<int>("() => Math.round(scrollY)"));
        await chat.Locator("[data-sg=guide-selector]").FillAsync("footer.site-footer");
        await chat.Locator("[data-sg=guide-scroll]").ClickAsync();
        await shop.WaitForFunctionAsync("() => scrollY > 100");
        var activity = customer.Locator("[data-sg=customer-activity]");
        await Assertions.Expect(activity).ToContainTextAsync(new Regex("scrolled to [1-9][0-9]{2,}"));

        // The shopper scrolls on their own, and clicks: both show in the console.
        await shop.EvaluateAsync("() => scrollTo(0, 57)");
        await Assertions.Expect(activity).ToContainTextAsync("scrolled to 57");
        await shop.Locator("p.sku").ClickAsync();
        await Assertions.Expect(activity).ToContainTextAsync(new Regex("clicked [^\"]*p\\.sku[^\"]* \"Item no\\. HH-KET-01\""));
        await Assertions.Expect(activity).ToContainTextAsync("viewport 1000×420");

        // A page that fires clicks in a loop: the gateway refuses what is over its budget, and the console says so.
        var throttled = customer.Locator("[data-sg=customer-throttled]");
        await Assertions.Expect(throttled).ToHaveCountAsync(0);
        await shop.EvaluateAsync("() => { for (let i = 0; i < 40; i++) document.querySelector('p.lead').click(); }");
        await Assertions.Expect(throttled).ToHaveTextAsync("events throttled");

        // The shopper stops guiding: the outline goes at once.
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await Assertions.Expect(outline).ToBeVisibleAsync();
        await shop.Locator("[data-sg=guide-toggle]").UncheckAsync();
        await Assertions.Expect(outline).ToBeHiddenAsync();
        await Assertions.Expect(customer.Locator("[data-sg=customer-guide]")).ToBeVisibleAsync();

        // A bad selector is refused by the server with a clear error in the console.
        await chat.Locator("[data-sg=guide-selector]").FillAsync("p { color: red }");
        await chat.Locator("[data-sg=guide-highlight]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=chat-error]")).ToContainTextAsync("no CSS selector has");
    }
}
