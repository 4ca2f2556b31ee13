using System.Diagnostics.Metrics;
using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.DependencyInjection;
using SupportGrid.Gateway.Hosting;
using SupportGrid.Gateway.Security;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>
/// The same gateway with no known proxy: every client is its TCP peer. Clients pick their peer address by binding their
/// socket to a loopback address of their own (Linux answers on all of 127.0.0.0/8); the bystander speaks from 127.0.0.1.
/// A short abuse cool-down so that a test can see one end.
/// </summary>
public sealed class PeerLimitGateway : AbuseGateway
{
    protected override string? KnownProxy => null;

    protected override IReadOnlyDictionary<string, string> Limits => new Dictionary<string, string>(base.Limits)
    {
        ["AbuseCooldown"] = "00:00:05",
    };
}

/// <summary>A peer past its TCP connection limit, or in its abuse cool-down, is closed before HTTP; nobody else notices.</summary>
public sealed class PeerLimitTests(PeerLimitGateway gateway) : IClassFixture<PeerLimitGateway>, IAsyncLifetime
{
    private const int Limit = 8; // the fixture's TcpConnectionsPerPeer
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Fact]
    public async Task APeerAtItsTcpLimitHasItsNextConnectionClosedBeforeHttpUntilItClosesOne()
    {
        var attacker = IPAddress.Parse("127.0.0.2");
        using var refusals = new RefusalCounter(gateway);
        var held = new List<Socket>();
        try
        {
            for (var i = 0; i < Limit; i++)
            {
                held.Add(await RawPeer.ConnectAsync(gateway, attacker));
                Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(held[^1])); // each one accepted and kept open
            }

            using (var past = await RawPeer.ConnectAsync(gateway, attacker))
                Assert.Null(await RawPeer.RequestAsync(past)); // a valid request, and not one byte of HTTP back
            Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8007 && l.Message.Contains("127.0.0.2")
                && l.Message.Contains(PeerConnectionGate.RefusalReasons.PeerLimit));
            Assert.True(refusals.Of(PeerConnectionGate.RefusalReasons.PeerLimit) >= 1);
            await _bystander.StillChattingAsync();
        }
        finally
        {
            foreach (var socket in held)
                socket.Dispose();
        }

        // Once the gateway has seen them close, the peer connects again.
        var gate = gateway.Services.GetRequiredService<PeerConnectionGate>();
        await Eventually(() => gate.ConnectionsOf("127.0.0.2") == 0, "the gateway still counts the attacker's closed connections");
        using (var again = await RawPeer.ConnectAsync(gateway, attacker))
            Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(again));
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task APeerDisconnectedForAFloodHasEveryNewConnectionClosedBeforeHttpUntilItsCoolDownEnds()
    {
        var flooder = IPAddress.Parse("127.0.0.3");
        var penalties = gateway.Services.GetRequiredService<AddressPenalties>();
        await using (var customer = CustomerFrom(flooder))
        {
            var closed = new TaskCompletionSource<Exception?>();
            customer.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
            await customer.StartAsync();
            for (var i = 0; i < 60 && customer.State == HubConnectionState.Connected; i++)
            {
                try
                {
                    await customer.InvokeAsync<QueueAvailability>("GetAvailability", "demo", _slot.Queue);
                }
                catch (HubException e)
                {
                    Assert.Contains(SecurityErrorCodes.RateLimited + ":", e.Message);
                }
                catch (Exception e) when (e is InvalidOperationException or TaskCanceledException or OperationCanceledException)
                {
                    break; // the server closed the connection under the call
                }
            }
            await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        }
        Assert.True(penalties.IsCoolingDown("127.0.0.3", out _), "the flood did not put the peer in its cool-down");

        using (var during = await RawPeer.ConnectAsync(gateway, flooder))
            Assert.Null(await RawPeer.RequestAsync(during));
        Assert.True(penalties.IsCoolingDown("127.0.0.3", out _)); // the refusal came inside the cool-down (5 s)
        Assert.Contains(gateway.Logs.Lines, l => l.EventId.Id == 8007 && l.Message.Contains("127.0.0.3")
            && l.Message.Contains(PeerConnectionGate.RefusalReasons.CoolingDown));
        await _bystander.StillChattingAsync();

        await Eventually(() => !penalties.IsCoolingDown("127.0.0.3", out _), "the cool-down did not end", seconds: 20);
        using (var after = await RawPeer.ConnectAsync(gateway, flooder))
            Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(after));
        await _bystander.StillChattingAsync();
    }

    /// <summary>A customer connection whose TCP connection comes from <paramref name="from"/> (WebSockets, no negotiation).</summary>
    private HubConnection CustomerFrom(IPAddress from) =>
        new HubConnectionBuilder().WithUrl(new Uri(gateway.BaseAddress, "/hubs/customer"), HttpTransportType.WebSockets, o =>
        {
            o.SkipNegotiation = true;
            o.WebSocketFactory = async (context, cancel) =>
            {
                var socket = new ClientWebSocket();
                var handler = new SocketsHttpHandler
                {
                    ConnectCallback = async (c, ct) => new NetworkStream(await RawPeer.ConnectAsync(gateway, from, ct), ownsSocket: true),
                };
                await socket.ConnectAsync(context.Uri, new HttpMessageInvoker(handler), cancel);
                return socket;
            };
        }).Build();

    internal static async Task Eventually(Func<bool> condition, string failure, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, failure);
            await Task.Delay(50);
        }
    }
}

/// <summary>The known proxy (127.0.0.1 in <see cref="AbuseGateway"/>) is a load balancer: never limited per TCP peer.</summary>
public sealed class ProxyPeerLimitTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Fact]
    public async Task AKnownProxyMayHoldManyMoreConnectionsThanAPeerWhileOtherPeersAreLimited()
    {
        var held = new List<Socket>();
        try
        {
            // 3x the fixture's TcpConnectionsPerPeer (8) from the proxy, all open at once, each answered.
            for (var i = 0; i < 24; i++)
            {
                held.Add(await RawPeer.ConnectAsync(gateway, IPAddress.Loopback));
                Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(held[^1], forwardedFor: gateway.NextAddress()));
            }
            await _bystander.StillChattingAsync();

            // The limit is on in this gateway: a peer that is not the proxy gets 8 and no more.
            var direct = IPAddress.Parse("127.0.0.4");
            for (var i = 0; i < 8; i++)
            {
                held.Add(await RawPeer.ConnectAsync(gateway, direct));
                Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(held[^1]));
            }
            using (var past = await RawPeer.ConnectAsync(gateway, direct))
                Assert.Null(await RawPeer.RequestAsync(past));

            // The proxy still connects while that peer is refused.
            held.Add(await RawPeer.ConnectAsync(gateway, IPAddress.Loopback));
            Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(held[^1], forwardedFor: gateway.NextAddress()));
        }
        finally
        {
            foreach (var socket in held)
                socket.Dispose();
        }
        await _bystander.StillChattingAsync();
    }
}

/// <summary>The gateway with a known proxy network (all of loopback, 127.0.0.0/8) instead of a known proxy address, as
/// for an ingress controller's pods: every peer in it is a proxy.</summary>
public sealed class KnownNetworkGateway : AbuseGateway
{
    protected override string? KnownProxy => null;

    protected override string? KnownNetwork => "127.0.0.0/8";
}

/// <summary>A proxy in a known network (<c>SupportGrid:Gateway:KnownNetworks</c>) is trusted as a known proxy is.</summary>
public sealed class KnownNetworkTests(KnownNetworkGateway gateway) : IClassFixture<KnownNetworkGateway>, IAsyncLifetime
{
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Fact]
    public async Task APeerInAKnownNetworkIsNotLimitedPerTcpPeerAndItsForwardedAddressesAreBelieved()
    {
        var held = new List<Socket>();
        var hubs = new List<HubConnection>();
        try
        {
            // 127.0.0.2 is in the network: 3x the TCP limit (8), all answered.
            for (var i = 0; i < 24; i++)
            {
                held.Add(await RawPeer.ConnectAsync(gateway, IPAddress.Parse("127.0.0.2")));
                Assert.Equal("HTTP/1.1 200 OK", await RawPeer.RequestAsync(held[^1], forwardedFor: gateway.NextAddress()));
            }
            // Its clients are told apart by X-Forwarded-For: more hub connections than one address may hold (5), each
            // from an address of its own, all taken.
            for (var i = 0; i < 7; i++)
            {
                hubs.Add(gateway.Customer(gateway.NextAddress()));
                await hubs[^1].StartAsync();
                await hubs[^1].InvokeAsync<QueueAvailability>("GetAvailability", "demo", _slot.Queue);
            }
            await _bystander.StillChattingAsync();
        }
        finally
        {
            foreach (var socket in held)
                socket.Dispose();
            foreach (var hub in hubs)
                await hub.DisposeAsync();
        }
    }
}

/// <summary>Raw TCP to the gateway from a chosen loopback address, and one plain HTTP/1.1 request on it.</summary>
internal static class RawPeer
{
    public static async Task<Socket> ConnectAsync(AbuseGateway gateway, IPAddress from, CancellationToken cancel = default)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            socket.Bind(new IPEndPoint(from, 0));
            await socket.ConnectAsync(IPAddress.Parse(gateway.BaseAddress.Host), gateway.BaseAddress.Port, cancel);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Sends a valid <c>GET /health/live</c> and returns the response's status line, or null when the gateway closed the
    /// connection without sending a byte (end of stream or a reset). Neither within 15 s is a failure.
    /// </summary>
    public static async Task<string?> RequestAsync(Socket socket, string? forwardedFor = null)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var request = "GET /health/live HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            + (forwardedFor is null ? "" : $"X-Forwarded-For: {forwardedFor}\r\n") + "\r\n";
        var buffer = new byte[4096];
        var received = 0;
        try
        {
            await socket.SendAsync(Encoding.ASCII.GetBytes(request), SocketFlags.None, deadline.Token);
            while (received < buffer.Length)
            {
                var n = await socket.ReceiveAsync(buffer.AsMemory(received), SocketFlags.None, deadline.Token);
                if (n == 0)
                    break;
                received += n;
                if (buffer.AsSpan(0, received).IndexOf("\r\n"u8) is var eol and >= 0)
                    return Encoding.ASCII.GetString(buffer, 0, eol);
            }
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionReset or SocketError.ConnectionAborted
            or SocketError.Shutdown or SocketError.Disconnecting)
        {
        }
        catch (OperationCanceledException) when (deadline.IsCancellationRequested)
        {
            throw new TimeoutException("The gateway neither answered nor closed the connection within 15 s.");
        }
        return received == 0 ? null : Encoding.ASCII.GetString(buffer, 0, received);
    }
}

/// <summary>Counts this gateway's TCP refusals by reason, from its own meter (other gateways in the process not counted).</summary>
internal sealed class RefusalCounter : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly Dictionary<string, long> _byReason = [];

    public RefusalCounter(AbuseGateway gateway)
    {
        var meters = gateway.Services.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Scope == meters && instrument.Meter.Name == GatewayTelemetry.MeterName
                && instrument.Name == PeerConnectionGate.RefusedCounter)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            foreach (var tag in tags)
            {
                if (tag is { Key: "reason", Value: string reason })
                {
                    lock (_byReason)
                        _byReason[reason] = _byReason.GetValueOrDefault(reason) + value;
                }
            }
        });
        _listener.Start();
    }

    public long Of(string reason)
    {
        lock (_byReason)
            return _byReason.GetValueOrDefault(reason);
    }

    public void Dispose() => _listener.Dispose();
}
