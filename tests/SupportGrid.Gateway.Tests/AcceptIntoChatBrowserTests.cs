using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// A second waiting shopper is accepted into the agent's open chat from the console's offer, in real Chromium.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class AcceptIntoChatBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task AWaitingShopperAcceptedIntoTheOpenChatJoinsItWithoutTakingAnotherSlot()
    {
        var dana = await PageAsync("dana");
        await dana.GotoAsync(Url("/demo/products/kettle.html"));
        await StartChatAsync(dana, "Dana");
        var console = await AvailableConsoleAsync("agent");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(dana.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");
        await Assertions.Expect(console.Locator("[data-sg=capacity]")).ToContainTextAsync("1 /");

        // Eve asks for help on another page; the offer can go into Dana's chat.
        var eve = await PageAsync("eve");
        await eve.GotoAsync(Url("/demo/products/toaster.html"));
        await StartChatAsync(eve, "Eve");
        var offer = console.Locator("[data-sg=offer]");
        await Assertions.Expect(offer.Locator("[data-sg=accept-into-chat] option")).ToHaveTextAsync("Dana");
        await offer.Locator("[data-sg=accept-into]").ClickAsync();

        await Assertions.Expect(eve.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        await Assertions.Expect(chat).ToHaveCountAsync(1);
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Eve joined the chat.");
        await Assertions.Expect(chat.Locator("[data-sg=customer]")).ToHaveCountAsync(2);
        await Assertions.Expect(console.Locator("[data-sg=capacity]")).ToContainTextAsync("1 /");
        await Assertions.Expect(offer).ToHaveCountAsync(0);

        // Both shoppers are in one chat: Eve's message reaches Dana.
        await eve.Locator("[data-sg=message-input]").FillAsync("Hello, I came for the toaster.");
        await eve.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(dana.Locator("[data-sg=messages]")).ToContainTextAsync("Hello, I came for the toaster.");
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Hello, I came for the toaster.");
    }
}
