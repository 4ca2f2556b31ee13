using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// One agent and three shoppers in one chat, in real Chromium (one browser context each): the agent's join link brings
/// two of them in, one broadcast moves all three pages with no action from them, and the console shows that each followed.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class GroupNavigationBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    [Fact]
    public async Task OneBroadcastMovesThreeShoppersPagesAndTheConsoleShowsEachFollowed()
    {
        // The first shopper asks for help; bob accepts.
        var dana = await PageAsync("dana");
        await dana.GotoAsync(Url("/demo/products/kettle.html"));
        await dana.Locator("[data-sg=chat-button]").ClickAsync();
        await dana.Locator("[data-sg=name]").FillAsync("Dana");
        await dana.Locator("[data-sg=start]").ClickAsync();
        await Assertions.Expect(dana.Locator("[data-sg=position]")).ToContainTextAsync("1");

        var console = await AvailableConsoleAsync("agent");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(dana.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        var chat = console.Locator("[data-sg=chat]");

        // Bob makes a join link; two more shoppers open it and join with their names.
        await chat.Locator("[data-sg=create-join-code]").ClickAsync();
        var link = chat.Locator("[data-sg=join-link]");
        await Assertions.Expect(link).ToHaveAttributeAsync("href", new Regex("sg-join="));
        var joinUrl = (await link.GetAttributeAsync("href"))!;
        Assert.StartsWith(Url("/demo/products/kettle.html?sg-join="), joinUrl);
        var shoppers = new List<(string Name, IPage Page)> { ("Dana", dana) };
        foreach (var name in new[] { "Eve", "Finn" })
        {
            var page = await PageAsync(name.ToLowerInvariant());
            await page.GotoAsync(joinUrl);
            await Assertions.Expect(page.Locator("[data-sg=join-code]")).Not.ToBeEmptyAsync();
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/demo/products/kettle\\.html$")); // the code left the address bar
            await page.Locator("[data-sg=name]").FillAsync(name);
            await page.Locator("[data-sg=start]").ClickAsync();
            await Assertions.Expect(page.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
            shoppers.Add((name, page));
        }
        await Assertions.Expect(chat.Locator("[data-sg=customer]")).ToHaveCountAsync(3);
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Finn joined the chat.");

        // Everyone hears everyone.
        await shoppers[1].Page.Locator("[data-sg=message-input]").FillAsync("Is there a red one?");
        await shoppers[1].Page.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(dana.Locator("[data-sg=messages]")).ToContainTextAsync("Is there a red one?");
        await Assertions.Expect(shoppers[2].Page.Locator("[data-sg=messages]")).ToContainTextAsync("Is there a red one?");
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Is there a red one?");
        var sessions = new List<string>();
        foreach (var (_, page) in shoppers)
            sessions.Add(await SessionIdAsync(page));
        Assert.Equal(3, sessions.Distinct().Count(s => s.Length > 0));

        // One broadcast: all three pages move with no action from the shoppers, and each one reports it followed.
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/toaster.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        foreach (var (_, page) in shoppers)
        {
            await Assertions.Expect(page).ToHaveURLAsync(new Regex("/demo/products/toaster\\.html$"));
            await Assertions.Expect(page.Locator("h1")).ToContainTextAsync("Toaster");
        }
        await Assertions.Expect(chat.Locator("[data-sg=customer-nav][data-status=followed]")).ToHaveCountAsync(3);
        foreach (var (name, _) in shoppers)
        {
            var row = chat.Locator("[data-sg=customer]").Filter(new() { HasText = name });
            await Assertions.Expect(row.Locator("[data-sg=customer-nav]")).ToHaveTextAsync("followed");
            await Assertions.Expect(row.Locator("[data-sg=customer-page]")).ToContainTextAsync("toaster.html");
        }

        // Eve reloads: the same session resumes, the page stays, and the chat goes on.
        var eve = shoppers[1].Page;
        await eve.ReloadAsync();
        await Assertions.Expect(eve.Locator("[data-sg=messages]")).ToContainTextAsync("Is there a red one?");
        Assert.Equal(sessions[1], await SessionIdAsync(eve));
        await chat.Locator("[data-sg=chat-input]").FillAsync("Red is on the next page.");
        await chat.Locator("[data-sg=chat-send]").ClickAsync();
        await Assertions.Expect(eve.Locator("[data-sg=messages]")).ToContainTextAsync("Red is on the next page.");
        foreach (var (_, page) in shoppers)
            Assert.EndsWith("/demo/products/toaster.html", page.Url); // each navigation was applied once
    }
}
