using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Playwright;

namespace SupportGrid.Bench;

/// <summary>What the <c>pageview</c> scenario does: one shopper in real Chromium, one bench agent watching the live view.</summary>
public sealed record PageViewOptions
{
    public required Uri Target { get; init; }

    /// <summary>The demo page the shopper is on (a form, so that typing is part of the activity).</summary>
    public string Page { get; init; } = "/demo/checkout.html";

    public required BenchAgents Agents { get; init; }

    /// <summary>How long the view is measured with the page left alone, then with the shopper active.</summary>
    public TimeSpan Idle { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan Active { get; init; } = TimeSpan.FromSeconds(10);

    public string ChromiumPath { get; init; } = "/usr/bin/chromium";
}

/// <summary>Characters of page view the agent received (base64 of the gzip-compressed rrweb events, as relayed), in
/// each phase: the full snapshot sent when the agent opens the view, the idle page, the active page.</summary>
public sealed record PageViewResult(string Page, long SnapshotChars, double SnapshotSeconds, double IdleBytesPerSecond, double ActiveBytesPerSecond,
    int Pieces, int Degraded)
{
    public double IdleKbitPerSecond => Math.Round(IdleBytesPerSecond * 8 / 1000, 2);

    public double ActiveKbitPerSecond => Math.Round(ActiveBytesPerSecond * 8 / 1000, 2);
}

/// <summary>
/// <c>pageview</c> (issue 5): what a live page view costs. A shopper in Chromium opens the widget on a demo page and
/// starts a chat; a bench agent accepts and opens the live view (<c>WatchPage</c>); the tool counts the characters of
/// every <c>CustomerPageView</c> piece the agent receives: first the full snapshot, then <see cref="PageViewOptions.Idle"/>
/// with the page left alone, then <see cref="PageViewOptions.Active"/> while the shopper scrolls, moves the mouse and
/// types into the form (a key every 200 ms, a scroll every 500 ms, the mouse every 100 ms). What is counted is the
/// payload as relayed (base64 text in the hub's JSON), about what crosses the agent's WebSocket for the view.
/// </summary>
public static class PageViewScenario
{
    public static async Task<PageViewResult> RunAsync(PageViewOptions options, Action<string>? log = null, CancellationToken cancellationToken = default)
    {
        log ??= _ => { };
        var pieces = new ConcurrentQueue<(long At, int Chars, string State)>();
        var offered = new TaskCompletionSource<Guid>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var http = new HttpClient { BaseAddress = options.Target };
        var token = await SignalRChatWire.SignInAsync(http, options.Agents.Id(0), options.Agents.Password, cancellationToken);
        await using var agent = SignalRChatWire.Connect(options.Target, "/hubs/agent", token);
        agent.On<ChatOffer>("Offer", offer => offered.TrySetResult(offer.SessionId));
        agent.On<Guid, CustomerPageView>("CustomerPageView", (_, view) =>
            pieces.Enqueue((Stopwatch.GetTimestamp(), view.Chunk.Data?.Length ?? 0, view.Chunk.State)));
        await agent.StartAsync(cancellationToken);
        await agent.InvokeAsync("SetStatus", "available", cancellationToken);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = options.ChromiumPath,
            Args = ["--headless", "--no-sandbox", "--disable-gpu"],
        });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1280, Height = 720 } });
        await page.GotoAsync(new Uri(options.Target, options.Page).AbsoluteUri);
        await page.Locator("[data-sg=chat-button]").ClickAsync();
        await page.Locator("[data-sg=name]").FillAsync("Bench shopper");
        await page.Locator("[data-sg=start]").ClickAsync();
        var sessionId = await offered.Task.WaitAsync(TimeSpan.FromSeconds(30), cancellationToken);
        var accepted = await agent.InvokeAsync<AcceptResult>("AcceptOffer", sessionId, cancellationToken);

        var opened = Stopwatch.GetTimestamp();
        await agent.InvokeAsync("WatchPage", accepted.ChannelId, sessionId, true, cancellationToken);
        // The snapshot: everything until the view has been quiet for a second (it is sent in pieces, one after another).
        while (true)
        {
            await Task.Delay(250, cancellationToken); // a sampling interval: the measurement reads what arrived meanwhile
            var last = pieces.IsEmpty ? opened : pieces.Max(p => p.At);
            if (!pieces.IsEmpty && Stopwatch.GetElapsedTime(last).TotalSeconds >= 1)
                break;
            if (Stopwatch.GetElapsedTime(opened) > TimeSpan.FromSeconds(30))
                throw new TimeoutException("No page view arrived within 30 s of WatchPage.");
        }
        var snapshotEnd = pieces.Max(p => p.At);
        var snapshot = pieces.Sum(p => (long)p.Chars);
        log($"snapshot: {snapshot} characters in {Stopwatch.GetElapsedTime(opened, snapshotEnd).TotalSeconds:F2} s");

        var idleFrom = Stopwatch.GetTimestamp();
        await Task.Delay(options.Idle, cancellationToken); // the idle phase is a duration, nothing to wait for
        var idleTo = Stopwatch.GetTimestamp();

        var activeFrom = Stopwatch.GetTimestamp();
        await ActAsync(page, options.Active, cancellationToken);
        var activeTo = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(1), cancellationToken); // the last batch (the widget sends every few hundred ms)

        double Rate(long from, long to) => pieces.Where(p => p.At >= from && p.At < to).Sum(p => (double)p.Chars) / Stopwatch.GetElapsedTime(from, to).TotalSeconds;
        var result = new PageViewResult(options.Page, snapshot, Math.Round(Stopwatch.GetElapsedTime(opened, snapshotEnd).TotalSeconds, 2),
            Math.Round(Rate(idleFrom, idleTo)), Math.Round(Rate(activeFrom, activeTo + Stopwatch.Frequency)), pieces.Count,
            pieces.Count(p => p.State == "degraded"));
        log($"idle {result.IdleKbitPerSecond} kbit/s, active {result.ActiveKbitPerSecond} kbit/s, {result.Pieces} pieces");
        await agent.InvokeAsync("WatchPage", accepted.ChannelId, sessionId, false, cancellationToken);
        await agent.InvokeAsync("EndChat", accepted.ChannelId, cancellationToken);
        return result;
    }

    /// <summary>The shopper's activity: typing into the form's fields, scrolling and moving the mouse.</summary>
    private static async Task ActAsync(IPage page, TimeSpan duration, CancellationToken cancellationToken)
    {
        var fields = page.Locator("main input[type=text], main input:not([type]), main input[type=email], main textarea");
        var clock = Stopwatch.StartNew();
        var random = new Random(7);
        for (var tick = 0; clock.Elapsed < duration; tick++)
        {
            await page.Mouse.MoveAsync(random.Next(50, 1200), random.Next(50, 650));
            if (tick % 2 == 0 && await fields.CountAsync() is var count and > 0)
                await fields.Nth(tick / 2 % count).PressAsync("a");
            if (tick % 5 == 0)
                await page.Mouse.WheelAsync(0, tick % 10 == 0 ? 300 : -300);
            await Task.Delay(100, cancellationToken); // the activity's pace, not a wait for anything
        }
    }
}
