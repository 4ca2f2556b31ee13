using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// A single-page app that opts in (data-spa on the embed tag) follows the agent's navigation inside the app without a
/// reload, reports its in-app navigations, and still loads pages outside the app normally, in real Chromium.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class SinglePageAppBrowserTests : IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>, IAsyncLifetime
{
    private static readonly float Timeout = 30_000;
    private readonly GatewayFixture _gateway;
    private readonly BrowserFixture _browser;
    private readonly ITestOutputHelper _output;
    private readonly List<IBrowserContext> _contexts = [];

    public SinglePageAppBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    {
        _gateway = gateway;
        _browser = browser;
        _output = output;
    }

    public Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(Timeout);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var context in _contexts)
            await context.DisposeAsync();
    }

    private async Task<IPage> PageAsync(string who, int width = 1280, int height = 720)
    {
        var context = await _browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(Timeout);
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => _output.WriteLine($"[{who} console.{message.Type}] {message.Text}");
        page.PageError += (_, error) => _output.WriteLine($"[{who} page error] {error}");
        return page;
    }

    private string Url(string path) => new Uri(_gateway.BaseAddress, path).AbsoluteUri;

    private static async Task StartChatAsync(IPage shop, string name)
    {
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await shop.Locator("[data-sg=name]").FillAsync(name);
        await shop.Locator("[data-sg=start]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=position]")).ToContainTextAsync("1");
    }

    [Fact]
    public async Task TheAppFollowsTheAgentWithoutAReloadAndReportsItsOwnNavigations()
    {
        var shop = await PageAsync("shopper");
        await shop.GotoAsync(Url("/demo/spa/?view=kettle"));
        await Assertions.Expect(shop.Locator("h1")).ToHaveTextAsync("Copper Kettle");
        await StartChatAsync(shop, "Dana");
        await shop.EvaluateAsync("() => { window.__sameDocument = 42; }"); // gone if the page reloads

        var console = await PageAsync("agent");
        await console.GotoAsync(Url("/console/"));
        await console.Locator("[data-sg=username]").FillAsync("bob");
        await console.Locator("[data-sg=password]").FillAsync("demo");
        await console.Locator("[data-sg=sign-in]").ClickAsync();
        await console.Locator("[data-sg=status]").SelectOptionAsync("available");
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
