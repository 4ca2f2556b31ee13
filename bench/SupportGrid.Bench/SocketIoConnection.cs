using System.Collections;
using System.Diagnostics;
using System.Reflection;
using System.Text.Json;
using SocketIOClient;
using SocketIOClient.Transport;

namespace SupportGrid.Bench;

/// <summary>
/// One SocketIOClient 3.0.6 connection to a namespace of the socket.io baseline, made safe to use from the scenarios.
/// What the library does not do, and what this class adds (each was a hang or a lost answer here):
/// <list type="bullet">
/// <item><c>SocketIO.ConnectAsync</c> returns once the WebSocket is open, not once the namespace has been joined (the
/// library sends <c>40/ns</c> only when the server's open packet has been read). An emit sent in between is dropped
/// by the server and its acknowledgement never comes: under load (a full parallel test run) that was the smoke
/// test's hang. <see cref="ConnectAsync"/> waits for the library's <c>OnConnected</c> (the server's <c>40</c>).</item>
/// <item>Acknowledgement callbacks live in a plain <c>Dictionary</c> under a non-atomic packet counter: the emitting
/// thread adds, the receive thread calls the callback and then removes it. An emit that follows its predecessor's
/// acknowledgement at once (a navigation right after the previous one) adds while the receive thread removes, which can
/// corrupt the dictionary (an acknowledgement never found, or a lookup that never ends): a hang that needs a busy
/// machine to show. Here emits on one socket are serialized, one acknowledgement at a time, and the next emit starts
/// only once the library has removed the previous callback.</item>
/// <item>Several <c>ConnectAsync</c> at once lose connections (from about 10 at a time): connections open one at a time.</item>
/// <item>Every wait has a time limit, so a lost packet fails a run instead of stopping it.</item>
/// </list>
/// </summary>
internal sealed class SocketIoConnection
{
    private static readonly SemaphoreSlim ConnectGate = new(1);
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    /// <summary>SocketIOClient 3.0.6's private <c>Dictionary&lt;int, Action&lt;SocketIOResponse&gt;&gt; _ackHandlers</c>.</summary>
    private static readonly FieldInfo AckHandlersField = typeof(SocketIO).GetField("_ackHandlers", BindingFlags.Instance | BindingFlags.NonPublic)
        ?? throw new InvalidOperationException("SocketIOClient changed: SocketIO._ackHandlers is gone; review SocketIoConnection.");

    private readonly SocketIO _socket;
    private readonly ICollection _acks;
    private readonly SemaphoreSlim _emitGate = new(1);

    private SocketIoConnection(SocketIO socket)
    {
        _socket = socket;
        _acks = (ICollection)AckHandlersField.GetValue(socket)!;
    }

    public bool IsConnected => _socket.Connected;

    /// <summary>Connects over WebSocket only (no reconnection) and joins the namespace; <paramref name="configure"/>
    /// adds the event handlers first (they run on the client's receive thread).</summary>
    public static async Task<SocketIoConnection> ConnectAsync(Uri target, string ns, Action<SocketIO> configure, CancellationToken cancellationToken)
    {
        var socket = new SocketIO(new Uri(target, ns), new SocketIOOptions
        {
            Transport = TransportProtocol.WebSocket,
            Reconnection = false,
            ConnectionTimeout = Timeout,
        });
        var joined = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        socket.OnConnected += (_, _) => joined.TrySetResult();
        configure(socket);
        await ConnectGate.WaitAsync(cancellationToken);
        try
        {
            await socket.ConnectAsync().WaitAsync(Timeout, cancellationToken);
            await joined.Task.WaitAsync(Timeout, cancellationToken);
            return new SocketIoConnection(socket);
        }
        catch (Exception ex)
        {
            socket.Dispose();
            throw ex is TimeoutException ? new TimeoutException($"SocketIOClient did not join {ns} within {Timeout.TotalSeconds} s.", ex) : ex;
        }
        finally
        {
            ConnectGate.Release();
        }
    }

    /// <summary>Emits and waits for the server's acknowledgement (one at a time on this socket); the server
    /// acknowledges an error as <c>{ error }</c>.</summary>
    public async Task<JsonElement> EmitAsync(string eventName, params object[] data)
    {
        await _emitGate.WaitAsync();
        try
        {
            var ack = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
            await _socket.EmitAsync(eventName, r => ack.TrySetResult(r.GetValue<JsonElement>()), data);
            var result = await ack.Task.WaitAsync(Timeout);
            // The callback has run; the receive thread removes it right after. Reading Count is a field read.
            var deadline = Stopwatch.GetTimestamp() + Stopwatch.Frequency;
            while (_acks.Count > 0 && Stopwatch.GetTimestamp() < deadline)
                await Task.Yield();
            if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("error", out var error))
                throw new InvalidOperationException(error.GetString());
            return result;
        }
        finally
        {
            _emitGate.Release();
        }
    }

    /// <summary>Closes the connection: tells the server, then disposes. The library closes the WebSocket in an
    /// <c>async void</c> that catches its own errors, so disposing under it cannot take the process down.</summary>
    public async Task CloseAsync()
    {
        if (_socket.Connected)
            await _socket.DisconnectAsync().WaitAsync(Timeout);
        _socket.Dispose();
    }
}
