using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using Xunit.Abstractions;

namespace SupportGrid.Gateway.Tests;

/// <summary>
/// The live page view (rrweb) in real Chromium: the agent sees the shopper's page rebuilt in the console, what the shopper
/// types into any field stays masked (in the mirror, in what the agent's SignalR connection receives, and in what the
/// shopper's browser sends), the agent's pointer over the mirror shows on the shopper's page, and the shopper turning
/// guiding off stops the view.
/// Its own gateway, so the demo "sales" queue and the demo agent bob belong to this class alone.
/// </summary>
public sealed class LivePageViewBrowserTests(GatewayFixture gateway, BrowserFixture browser, ITestOutputHelper output)
    : BrowserTest(gateway, browser, output), IClassFixture<GatewayFixture>, IClassFixture<BrowserFixture>
{
    /// <summary>Every SignalR text frame a page's WebSocket sent or received, in order.</summary>
    private sealed class Frames
    {
        private readonly List<string> _frames = [];

        public static Frames Watch(IPage page, bool sent)
        {
            var frames = new Frames();
            page.WebSocket += (_, socket) =>
            {
                if (sent)
                    socket.FrameSent += (_, frame) => frames.Add(frame.Text);
                else
                    socket.FrameReceived += (_, frame) => frames.Add(frame.Text);
            };
            return frames;
        }

        private void Add(string? text)
        {
            if (text is null)
                return;
            lock (_frames)
                _frames.Add(text);
        }

        public string All()
        {
            lock (_frames)
                return string.Join("\n", _frames);
        }

        /// <summary>The invocations of <paramref name="target"/> in these frames (SignalR JSON protocol, \u001e-separated).</summary>
        public List<JsonElement> Invocations(string target)
        {
            List<string> copy;
            lock (_frames)
                copy = [.. _frames];
            var found = new List<JsonElement>();
            foreach (var message in copy.SelectMany(f => f.Split('\u001e', StringSplitOptions.RemoveEmptyEntries)))
            {
                using var doc = JsonDocument.Parse(message);
                if (doc.RootElement.TryGetProperty("type", out var type) && type.GetInt32() == 1
                    && doc.RootElement.GetProperty("target").GetString() == target)
                    found.Add(doc.RootElement.GetProperty("arguments").Clone());
            }
            return found;
        }
    }

    /// <summary>The page view pieces decoded back to rrweb's JSON: batches reassembled, base64 and gzip undone.</summary>
    private static string Decode(IEnumerable<JsonElement> pieces)
    {
        var text = new StringBuilder();
        foreach (var batch in pieces.Where(p => p.GetProperty("state").GetString() == "events").GroupBy(p => p.GetProperty("seq").GetInt64()))
        {
            var parts = batch.OrderBy(p => p.GetProperty("part").GetInt32()).ToList();
            if (parts.Count != parts[0].GetProperty("parts").GetInt32())
                continue;
            var bytes = Convert.FromBase64String(string.Concat(parts.Select(p => p.GetProperty("data").GetString())));
            if (parts[0].GetProperty("encoding").GetString() == "gzip")
            {
                using var gzip = new GZipStream(new MemoryStream(bytes), CompressionMode.Decompress);
                using var reader = new StreamReader(gzip, Encoding.UTF8);
                text.AppendLine(reader.ReadToEnd());
            }
            else
            {
                text.AppendLine(Encoding.UTF8.GetString(bytes));
            }
        }
        return text.ToString();
    }

    [Fact]
    public async Task TheAgentSeesTheShoppersPageWithEveryTypedValueMaskedAndTurningGuidingOffStopsTheView()
    {
        string[] secrets = ["Dana Secretname", "4111 1111 1111 9137", "Door code 2468 SECRET", "hunter2-SECRET", "Dana Example", "basket-token-7f3a9c2e51"];
        var shop = await PageAsync("shopper", 1100, 800);
        var sentByShopper = Frames.Watch(shop, sent: true);
        await shop.GotoAsync(Url("/demo/checkout.html"));
        await StartChatAsync(shop, "Dana");

        var console = await PageAsync("agent");
        var receivedByAgent = Frames.Watch(console, sent: false);
        await console.GotoAsync(Url("/console/"));
        await console.Locator("[data-sg=username]").FillAsync("bob");
        await console.Locator("[data-sg=password]").FillAsync("demo");
        await console.Locator("[data-sg=sign-in]").ClickAsync();
        await console.Locator("[data-sg=status]").SelectOptionAsync("available");
        await console.Locator("[data-sg=offer] [data-sg=accept]").ClickAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-name]")).ToContainTextAsync("Bob");
        await shop.Locator("[data-sg=minimize]").ClickAsync();
        var chat = console.Locator("[data-sg=chat]");

        // The agent opens the view: the checkout page is rebuilt in the console.
        await chat.Locator("[data-sg=customer] [data-sg=view-page]").ClickAsync();
        var state = chat.Locator("[data-sg=page-view-state]");
        await Assertions.Expect(state).ToHaveTextAsync("live");
        var mirror = console.FrameLocator("[data-sg=page-mirror] iframe");
        await Assertions.Expect(mirror.Locator("h1")).ToHaveTextAsync("Checkout");
        await Assertions.Expect(mirror.Locator("tr.total")).ToContainTextAsync("€79.00");
        Assert.Equal("allow-same-origin", await console.Locator("[data-sg=page-mirror] iframe").GetAttributeAsync("sandbox")); // no scripts

        // The shopper types into every kind of field: the mirror shows each one masked.
        await shop.Locator("#co-name").FillAsync(secrets[0]);
        await shop.Locator("#co-card").FillAsync(secrets[1]);
        await shop.Locator("#co-note").FillAsync(secrets[2]);
        await shop.Locator("#co-password").FillAsync(secrets[3]);
        await shop.Locator("#co-slot").SelectOptionAsync("Evening");
        foreach (var field in new[] { "#co-name", "#co-card", "#co-note" })
            await Assertions.Expect(mirror.Locator(field)).ToHaveValueAsync("****");
        await Assertions.Expect(mirror.Locator("#co-password")).ToHaveValueAsync(new Regex("^(\\*{4})?$")); // rrweb sends no password input at all
        await Assertions.Expect(mirror.Locator("#co-slot")).Not.ToHaveValueAsync("Evening");
        await Assertions.Expect(mirror.Locator("p.saved-card")).Not.ToContainTextAsync("Dana Example");
        await Assertions.Expect(mirror.Locator("p.saved-card")).ToBeAttachedAsync();
        // A change of the page that is not an input shows too (the view is live, not a still).
        await shop.EvaluateAsync("() => { document.querySelector('p.note').textContent = 'Shown live to the agent.'; }");
        await Assertions.Expect(mirror.Locator("p.note")).ToHaveTextAsync("Shown live to the agent.");

        // Nothing the agent's connection received holds a typed value, nor did the shopper's browser send one; decoded,
        // the relayed view is the page with the masks in it.
        var relayed = Decode(receivedByAgent.Invocations("CustomerPageView").Select(a => a[1].GetProperty("chunk")));
        var sent = Decode(sentByShopper.Invocations("PageView").Select(a => a[0]));
        Assert.Contains("Shown live to the agent.", relayed);
        Assert.Contains("****", relayed);
        Assert.Contains("Shown live to the agent.", sent);
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, relayed);
            Assert.DoesNotContain(secret, sent);
            Assert.DoesNotContain(secret, receivedByAgent.All());
            Assert.DoesNotContain(secret, sentByShopper.All());
            Assert.DoesNotContain(secret, await console.Locator("[data-sg=page-mirror] iframe").EvaluateAsync<string>("f => f.contentDocument.documentElement.outerHTML"));
        }

        // A page that changes faster than the view is relayed: the agent sees the view degraded, then live again once the
        // widget has sent a fresh full snapshot.
        await shop.EvaluateAsync(@"() => {
            const note = document.querySelector('p.note');
            const noise = n => Array.from(crypto.getRandomValues(new Uint8Array(n)), b => b.toString(16).padStart(2, '0')).join('');
            window.__flood = setInterval(() => { note.textContent = noise(30000); }, 20);
        }");
        await Assertions.Expect(state).ToHaveTextAsync(new Regex("^view degraded"));
        await shop.EvaluateAsync("() => { clearInterval(window.__flood); document.querySelector('p.note').textContent = 'Calm again.'; }");
        await Assertions.Expect(state).ToHaveTextAsync("live");
        await Assertions.Expect(mirror.Locator("p.note")).ToHaveTextAsync("Calm again.");

        // The agent sends the shopper to another page: the view follows with that page's full snapshot.
        await chat.Locator("[data-sg=nav-url]").FillAsync(Url("/demo/products/toaster.html"));
        await chat.Locator("[data-sg=nav-send]").ClickAsync();
        await Assertions.Expect(shop).ToHaveURLAsync(new Regex("/demo/products/toaster\\.html$"));
        await Assertions.Expect(mirror.Locator("h1")).ToHaveTextAsync("Two-Slice Toaster");
        await Assertions.Expect(state).ToHaveTextAsync("live");

        // The agent's pointer over the mirror appears on the shopper's page.
        await console.Locator("[data-sg=page-mirror]").HoverAsync(new() { Position = new() { X = 60, Y = 60 } });
        await console.Locator("[data-sg=page-mirror]").HoverAsync(new() { Position = new() { X = 80, Y = 90 } });
        await Assertions.Expect(shop.Locator("[data-sg=agent-pointer]")).ToBeVisibleAsync();
        await Assertions.Expect(shop.Locator("[data-sg=agent-pointer]")).ToContainTextAsync("Bob");

        // The shopper turns guiding off: the agent sees the view stop, and the page is no longer sent.
        await shop.Locator("[data-sg=chat-button]").ClickAsync();
        await shop.Locator("[data-sg=guide-toggle]").UncheckAsync();
        await Assertions.Expect(state).ToHaveTextAsync("stopped: The customer turned guiding off.");
        await Assertions.Expect(shop.Locator("[data-sg=agent-pointer]")).ToBeHiddenAsync();
        await shop.EvaluateAsync("() => { document.querySelector('h1').textContent = 'Changed after the view stopped'; }");
        await shop.Locator("[data-sg=message-input]").FillAsync("Did the view stop?");
        await shop.Locator("[data-sg=send]").ClickAsync();
        await Assertions.Expect(chat.Locator("[data-sg=transcript]")).ToContainTextAsync("Did the view stop?");
        await Assertions.Expect(mirror.Locator("h1")).ToHaveTextAsync("Two-Slice Toaster");
        var pieces = sentByShopper.Invocations("PageView").Select(a => a[0].GetProperty("state").GetString()).ToList();
        Assert.Equal("stopped", pieces[^1]);
        Assert.DoesNotContain("Changed after the view stopped", Decode(sentByShopper.Invocations("PageView").Select(a => a[0])));
    }
}
