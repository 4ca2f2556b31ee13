using System.Text.Json;
using SocketIOClient;
using SocketIOClient.Transport;

namespace SupportGrid.Bench;

/// <summary>
/// Broadcast against the socket.io baseline (bench/baselines/socketio) with the SocketIOClient package: customers
/// <c>join</c> the channel's room on the <c>/customer</c> namespace, the agent emits <c>navigate</c> on <c>/agent</c>,
/// customers get <c>navigate</c> events. Every emit waits for the server's acknowledgement, as a hub invocation does.
/// </summary>
public sealed class SocketIoBroadcastDriver(Uri target) : IBroadcastDriver
{
    private readonly string _channelId = Guid.NewGuid().ToString();
    private readonly List<SocketIO> _customers = [];
    private SocketIO? _agent;

    public async Task ConnectAgentAsync(CancellationToken cancellationToken)
    {
        _agent = await ConnectAsync(target, "/agent", _ => { });
    }

    public async Task ConnectCustomerAsync(int index, Action<string> onNavigate, CancellationToken cancellationToken)
    {
        var socket = await ConnectAsync(target, "/customer", s => s.On("navigate", r => onNavigate(r.GetValue<JsonElement>().GetProperty("url").GetString()!)));
        lock (_customers)
            _customers.Add(socket);
        await EmitAsync(socket, "join", _channelId);
    }

    public Task NavigateAsync(string url, CancellationToken cancellationToken) => EmitAsync(_agent!, "navigate", _channelId, url);

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _customers)
            await CloseAsync(socket);
        if (_agent is not null)
            await CloseAsync(_agent);
    }

    // SocketIOClient 3.0.6 loses some connections when several ConnectAsync calls run at once (seen here from 10 at a
    // time: the handshake completes on the server, the client never returns). Connections are opened one at a time,
    // and one that still hangs (seen once in six runs of 1,000) fails the run after 30 s instead of stopping it.
    private static readonly SemaphoreSlim ConnectGate = new(1);

    /// <summary>Connects over WebSocket only (no reconnection); <paramref name="configure"/> adds handlers first.</summary>
    internal static async Task<SocketIO> ConnectAsync(Uri target, string ns, Action<SocketIO> configure)
    {
        await ConnectGate.WaitAsync();
        try
        {
            return await ConnectOneAsync(target, ns, configure);
        }
        finally
        {
            ConnectGate.Release();
        }
    }

    private static async Task<SocketIO> ConnectOneAsync(Uri target, string ns, Action<SocketIO> configure)
    {
        var socket = new SocketIO(new Uri(target, ns), new SocketIOOptions
        {
            Transport = TransportProtocol.WebSocket,
            Reconnection = false,
            ConnectionTimeout = TimeSpan.FromSeconds(30),
        });
        configure(socket);
        try
        {
            await socket.ConnectAsync().WaitAsync(TimeSpan.FromSeconds(30));
        }
        catch (TimeoutException)
        {
            socket.Dispose();
            throw new TimeoutException($"SocketIOClient did not connect to {ns} within 30 s.");
        }
        return socket;
    }

    /// <summary>Emits and waits for the server's acknowledgement; the server acknowledges an error as <c>{ error }</c>.</summary>
    internal static async Task<JsonElement> EmitAsync(SocketIO socket, string eventName, params object[] data)
    {
        var ack = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        await socket.EmitAsync(eventName, r => ack.TrySetResult(r.GetValue<JsonElement>()), data);
        var result = await ack.Task;
        if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("error", out var error))
            throw new InvalidOperationException(error.GetString());
        return result;
    }

    internal static async Task CloseAsync(SocketIO socket)
    {
        if (socket.Connected)
            await socket.DisconnectAsync();
        socket.Dispose();
    }
}
