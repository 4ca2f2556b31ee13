using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// Base of the Chromium tests. Each test class has its own gateway (so the demo "sales" queue and the demo agent bob belong
/// to that class alone) and the shared browser; each page gets a context of its own (its own cookies and storage, like a
/// separate person), and what a page logs, throws or navigates to goes to the test output.
/// </summary>
public abstract class BrowserTest(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output) : IAsyncLifetime
{
    protected const float Timeout = 30_000;
    private readonly List<IBrowserContext> _contexts = [];

    protected GatewayFixture Gateway => gateway;

    protected ITestOutputHelper Output => output;

    public virtual Task InitializeAsync()
    {
        Assertions.SetDefaultExpectTimeout(Timeout);
        return Task.CompletedTask;
    }

    public virtual async Task DisposeAsync()
    {
        foreach (var context in _contexts)
            await context.DisposeAsync();
    }

    /// <summary>A page in a fresh browser context; <paramref name="who"/> prefixes its lines in the test output.</summary>
    protected async Task<IPage> PageAsync(string who, int width = 1280, int height = 720)
    {
        var context = await browser.Browser.NewContextAsync(new() { ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(Timeout);
        _contexts.Add(context);
        var page = await context.NewPageAsync();
        page.Console += (_, message) => output.WriteLine($"[{who} console.{message.Type}] {message.Text}");
        page.PageError += (_, error) => output.WriteLine($"[{who} page error] {error}");
        page.FrameNavigated += (_, frame) =>
        {
            if (frame == page.MainFrame)
                output.WriteLine($"[{who} {DateTime.UtcNow:HH:mm:ss.fff} navigated] {frame.Url}");
        };
        return page;
    }

    protected string Url(string path) => new Uri(gateway.BaseAddress, path).AbsoluteUri;

    /// <summary>The shopper opens the widget, gives a name and waits in the queue (first in line).</summary>
    protected static async Task StartChatAsync(IPage shop, string name)
    {
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await shop.Locator("[data-sg=name]").FillAsync(name);
        await shop.Locator("[data-sg=start]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=position]")).ToContainTextAsync("1");
    }

    /// <summary>An agent console, signed in as the demo agent and available for chats.</summary>
    protected async Task<IPage> AvailableConsoleAsync(string who = "agent", string user = "bob", string password = "demo")
    {
        var console = await PageAsync(who);
        await console.GotoAsync(Url("/console/"));
        await console.Locator("[data-sg=username]").FillAsync(user);
        await console.Locator("[data-sg=password]").FillAsync(password);
        await console.Locator("[data-sg=sign-in]").ClickAsync();
        await console.Locator("[data-sg=status]").SelectOptionAsync("available");
        return console;
    }

    /// <summary>The widget's session id, as it keeps it across page loads.</summary>
    protected static Task<string> SessionIdAsync(IPage page) =>
        page.EvaluateAsync<string>("() => JSON.parse(sessionStorage.getItem('sg:demo:session') || '{}').sessionId || ''");
}
