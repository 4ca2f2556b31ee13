using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// The shopper decides whether the agent may guide their browser, in real Chromium: with guiding off a navigation arrives
/// as a link and the console says the shopper did not follow; turned on again, the next navigation is followed, and the
/// shopper's clicks and in-page (pushState) navigation show in the console.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class GuideConsentBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task WithGuidingOffANavigationIsOnlySuggestedAndTheAgentSeesWhy()
    {
        var shop = await PageAsync("shopper");
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=consent]")).ToBeCheckedAsync(); // the demo shop makes it implicit
        await shop.Locator("[data-sg=name]").FillAsync("Dana");
        await shop.Locator("[data-sg=start]").ClickAsync();

        var console = await AvailableConsoleAsync("agent");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");
        var customer = chat.Locator("[data-sg=customer]");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("kettle.html");

        // The shopper stops guiding: the agent sees it, and the next navigation is only a link.
        await shop.Locator("[data-sg=guide-toggle]").UncheckAsync();
        await Assertions.Expect(customer.Locator("[data-sg=customer-guide]")).ToBeVisibleAsync();
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/toaster.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=nav-link]")).ToHaveAttributeAsync("href", Url("/demo/products/toaster.html"));
        await Assertions.Expect(customer.Locator("[data-sg=customer-nav]")).ToHaveTextAsync("did not follow (the customer turned guiding off)");
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/products/kettle\\.html$"));

        // Guiding on again: the next navigation moves the page by itself.
        await shop.Locator("[data-sg=guide-toggle]").CheckAsync();
        await Assertions.Expect(customer.Locator("[data-sg=customer-guide]")).ToBeHiddenAsync();
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/blender.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/products/blender\\.html$"));
        await Assertions.Expect(customer.Locator("[data-sg=customer-nav]")).ToHaveTextAsync("followed");
        await Assertions.Expect(shop.Locator("[data-sg=guide-toggle]")).ToBeCheckedAsync();

        // What the shopper does on the page reaches the console: the viewport, and a click with its selector and text.
        var activity = customer.Locator("[data-sg=customer-activity]");
        await Assertions.Expect(activity).ToContainTextAsync("viewport");
        await shop.Locator("p.price").ClickAsync();
        await Assertions.Expect(activity).ToContainTextAsync(new Regex("clicked [^\"]*p\\.price[^\"]* \"€129\\.00\""));

        // A single-page app changes its address without a load (history.pushState): the console sees the new page.
        await shop.EvaluateAsync("() => history.pushState({}, '', '/demo/products/blender.html?colour=red')");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("blender.html?colour=red");
    }
}
