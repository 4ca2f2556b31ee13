using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// The product as people use it, in real Chromium: a shopper on the demo shop and an agent in the console.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class ShopperAndAgentBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task AgentDrivesTheShoppersBrowserAndTheChatContinuesInTheSameSession()
    {
        // The shopper asks for help from a product page.
        var shop = await PageAsync("shopper");
        await shop.GotoAsync(Url("/demo/products/kettle.html"));
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await shop.Locator("[data-sg=name]").FillAsync("Dana Shopper");
        await shop.Locator("[data-sg=phone]").FillAsync("555-0199");
        await shop.Locator("[data-sg=start]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=position]")).ToContainTextAsync("1");

        // The agent signs in, goes available and sees the offer with who and where the shopper is.
        var console = await AvailableConsoleAsync();
        var offer = console.Locator("[data-sg=offer]");
        await Assertions.Expect(offer).ToContainTextAsync("Dana Shopper");
        await Assertions.Expect(offer).ToContainTextAsync("555-0199");
        await Assertions.Expect(offer).ToContainTextAsync("kettle.html");
        await offer.Locator("[data-sg=accept]").ClickAsync();

        // Both are in the channel and chat in real time.
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");
        await Assertions.Expect(chat).ToHaveCountAsync(1);
        await shop.Locator("[data-sg=message-input]").FillAsync("Does the kettle come in copper?");
        await shop.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Does the kettle come in copper?");
        await chat.Locator("[data-sg=chat-input]").FillAsync("It does, and the toaster matches it.");
        await chat.Locator("[data-sg=chat-send]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=messages]")).ToContainTextAsync("the toaster matches it");
        var sessionBefore = await SessionIdAsync(shop);
        Assert.False(string.IsNullOrEmpty(sessionBefore));

        // The agent sends the shopper to another page; the shopper's page changes with no click.
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/toaster.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("sent the customer to " + Url("/demo/products/toaster.html"));
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/products/toaster\\.html$"));
        await Assertions.Expect(shop.Locator("h1")).ToContainTextAsync("Toaster");

        // Same session after the load: the history is there and the chat goes on both ways.
        var messages = shop.Locator("[data-sg=messages]");
        await Assertions.Expect(messages).ToContainTextAsync("Does the kettle come in copper?");
        await Assertions.Expect(messages).ToContainTextAsync("the toaster matches it");
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        await chat.Locator("[data-sg=chat-input]").FillAsync("Here it is.");
        await chat.Locator("[data-sg=chat-send]").ClickAsync();
        await Assertions.Expect(messages).ToContainTextAsync("Here it is.");
        await shop.Locator("[data-sg=message-input]").FillAsync("Lovely, thanks!");
        await shop.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Lovely, thanks!");
        await Assertions.Expect(console.Locator("[data-sg=chat]")).ToHaveCountAsync(1);
        await Assertions.Expect(console.Locator("[data-sg=offer]")).ToHaveCountAsync(0);
        Assert.Equal(sessionBefore, await SessionIdAsync(shop));

        // The navigation is applied once: the page stays where the agent sent it.
        Assert.EndsWith("/demo/products/toaster.html", shop.Url);
    }
}
