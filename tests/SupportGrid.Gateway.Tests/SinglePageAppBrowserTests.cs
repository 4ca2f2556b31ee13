using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// A single-page app that opts in (data-spa on the embed tag) follows the agent's navigation inside the app without a
/// reload, reports its in-app navigations, and still loads pages outside the app normally, in real Chromium.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class SinglePageAppBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task TheAppFollowsTheAgentWithoutAReloadAndReportsItsOwnNavigations()
    {
        var shop = await PageAsync("shopper");
        await shop.GotoAsync(Url("/demo/spa/?view=kettle"));
        await Assertions.Expect(shop.Locator("h1")).ToHaveTextAsync("Copper Kettle");
        await StartChatAsync(shop, "Dana");
        await shop.EvaluateAsync("() => { window.__sameDocument = 42; }"); // gone if the page reloads

        var console = await AvailableConsoleAsync("agent");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");
        var customer = chat.Locator("[data-sg=customer]");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("view=kettle");

        // The agent sends the shopper to another view of the app: the app renders it, in the same document.
        await shop.EvaluateAsync("() => { window.__sgEvents = []; addEventListener('sg:navigate', e => window.__sgEvents.push(e.detail.url)); }");
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/spa/?view=toaster"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/spa/\\?view=toaster$"));
        await Assertions.Expect(shop.Locator("h1")).ToHaveTextAsync("Two-Slice Toaster");
        Assert.Equal(42, await shop.EvaluateAsync<int>("() => window.__sameDocument"));
        Assert.Equal([Url("/demo/spa/?view=toaster")], await shop.EvaluateAsync<string[]>("() => window.__sgEvents"));
        await Assertions.Expect(customer.Locator("[data-sg=customer-nav]")).ToHaveTextAsync("followed");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("Two-Slice Toaster");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("view=toaster");
        await Assertions.Expect(shop.Locator("[data-sg=messages]")).ToContainTextAsync("view=toaster"); // the chat goes on in place

        // The shopper moves inside the app on their own (pushState, then back): the console follows each step.
        await shop.Locator("a[href='/demo/spa/?view=blender']").ClickAsync();
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("view=blender");
        await shop.GoBackAsync();
        await Assertions.Expect(shop.Locator("h1")).ToHaveTextAsync("Two-Slice Toaster");
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("view=toaster");
        Assert.Equal(42, await shop.EvaluateAsync<int>("() => window.__sameDocument"));

        // A page of the site outside the app is loaded as usual, and the chat resumes there.
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/kettle.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/products/kettle\\.html$"));
        await Assertions.Expect(shop.Locator("h1")).ToHaveTextAsync("Copper Kettle");
        Assert.Equal("undefined", await shop.EvaluateAsync<string>("() => typeof window.__sameDocument"));
        await Assertions.Expect(customer.Locator("[data-sg=customer-page]")).ToContainTextAsync("kettle.html");
        await Assertions.Expect(customer.Locator("[data-sg=customer-nav]")).ToHaveTextAsync("followed");
    }
}
