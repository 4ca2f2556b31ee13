using System.Buffers;
using System.Collections.Concurrent;
using System.Net.WebSockets;
using System.Text;
using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>The arguments of an event the server emitted (the packet's JSON array after the event's name). Valid only
/// while the handler runs.</summary>
internal readonly struct SocketIoArgs(JsonElement packet)
{
    public JsonElement this[int index] => packet[index + 1];
}

/// <summary>
/// One socket.io connection to a namespace of the socket.io baseline: the socket.io 5 / Engine.IO 4 protocol over a
/// <see cref="ClientWebSocket"/>, WebSocket transport only, text packets only (what the baseline sends). Written for the
/// bench because SocketIOClient 3.0.6 (the only version on NuGet here) lost connections when several opened at once,
/// so the route scenario could open only about 45 customers a second, and needed workarounds for an acknowledgement
/// table that two threads changed without a lock. The whole protocol used:
/// <list type="bullet">
/// <item>open: <c>GET /socket.io/?EIO=4&amp;transport=websocket</c>; the server's first message is the open packet
/// <c>0{"sid":...}</c>; the client joins the namespace with <c>40/ns,</c> and the server answers <c>40/ns,{"sid":...}</c>
/// (or <c>44/ns,{"message":...}</c> when it refuses);</item>
/// <item>an emit is <c>42/ns,&lt;id&gt;["event",args...]</c>, its acknowledgement <c>43/ns,&lt;id&gt;[result]</c>; an event
/// from the server is <c>42/ns,["event",args...]</c>;</item>
/// <item>the server's ping <c>2</c> is answered with <c>3</c>; <c>41/ns,</c> leaves the namespace.</item>
/// </list>
/// Like the SignalR client, each connection has one receive loop that reads a message and handles it (event handlers
/// run on it: do not block them), and sends go out one at a time. Every wait has a time limit, so a lost packet fails a
/// run instead of stopping it.
/// </summary>
internal sealed class SocketIoConnection
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(30);

    private readonly ClientWebSocket _socket = new();
    private readonly string _namespace;
    private readonly byte[] _namespaceBytes;
    private readonly Dictionary<string, Action<SocketIoArgs>> _handlers = [];
    private readonly ConcurrentDictionary<int, TaskCompletionSource<JsonElement>> _acks = new();
    private readonly SemaphoreSlim _sendGate = new(1);
    private readonly TaskCompletionSource _joined = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly CancellationTokenSource _closing = new();
    private Task _receiving = Task.CompletedTask;
    private byte[] _buffer = new byte[4096];
    private int _nextAck;
    private volatile bool _connected;
    private volatile IOException? _gone;

    private SocketIoConnection(string ns)
    {
        _namespace = ns;
        _namespaceBytes = Encoding.UTF8.GetBytes(ns);
        // socket.io has its own heartbeat (the server's ping); no WebSocket-level one on top.
        _socket.Options.KeepAliveInterval = TimeSpan.Zero;
    }

    public bool IsConnected => _connected;

    /// <summary>Connects over WebSocket and joins namespace <paramref name="ns"/> (<c>/customer</c>); <paramref name="configure"/>
    /// adds the event handlers first (<see cref="On"/>). Returns once the server has confirmed the namespace, so the
    /// first emit is never dropped.</summary>
    public static async Task<SocketIoConnection> ConnectAsync(Uri target, string ns, Action<SocketIoConnection> configure, CancellationToken cancellationToken)
    {
        if (!ns.StartsWith('/') || ns == "/" || ns.Contains(','))
            throw new ArgumentException("A namespace such as /customer.", nameof(ns));
        var connection = new SocketIoConnection(ns);
        configure(connection);
        var scheme = target.Scheme == Uri.UriSchemeHttps ? "wss" : "ws";
        var uri = new UriBuilder(target) { Scheme = scheme, Path = "/socket.io/", Query = "EIO=4&transport=websocket" }.Uri;
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(Timeout);
        try
        {
            await connection._socket.ConnectAsync(uri, limit.Token);
            var open = await connection.ReceiveMessageAsync(limit.Token);
            if (open is not { Length: > 0 } first || first.Span[0] != (byte)'0')
                throw new InvalidOperationException($"socket.io: expected the open packet, got '{Shorten(open)}'.");
            connection._connected = true;
            connection._receiving = connection.ReceiveLoopAsync();
            await connection.SendAsync("40" + ns + ",");
            await connection._joined.Task.WaitAsync(limit.Token);
            return connection;
        }
        catch (Exception e)
        {
            connection._socket.Abort();
            connection._socket.Dispose();
            if (e is OperationCanceledException && !cancellationToken.IsCancellationRequested)
                throw new TimeoutException($"socket.io: did not join {ns} at {target} within {Timeout.TotalSeconds} s.", e);
            throw;
        }
    }

    /// <summary>Handles event <paramref name="eventName"/> from the server (on the receive loop). Before connecting only.</summary>
    public void On(string eventName, Action<SocketIoArgs> handler) => _handlers[eventName] = handler;

    /// <summary>Emits and waits for the server's acknowledgement (its first argument); the server acknowledges an error as
    /// <c>{ error }</c>, thrown here as <see cref="InvalidOperationException"/>.</summary>
    public async Task<JsonElement> EmitAsync(string eventName, params object[] data)
    {
        var id = Interlocked.Increment(ref _nextAck);
        var ack = new TaskCompletionSource<JsonElement>(TaskCreationOptions.RunContinuationsAsynchronously);
        _acks[id] = ack;
        try
        {
            if (_gone is { } gone)
                throw gone;
            var packet = new object[data.Length + 1];
            packet[0] = eventName;
            data.CopyTo(packet, 1);
            await SendAsync("42" + _namespace + "," + id.ToString(System.Globalization.CultureInfo.InvariantCulture) + JsonSerializer.Serialize(packet));
            var result = await ack.Task.WaitAsync(Timeout);
            if (result.ValueKind == JsonValueKind.Object && result.TryGetProperty("error", out var error))
                throw new InvalidOperationException(error.GetString());
            return result;
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"socket.io: no acknowledgement of '{eventName}' within {Timeout.TotalSeconds} s.", e);
        }
        finally
        {
            _acks.TryRemove(id, out _);
        }
    }

    /// <summary>Leaves the namespace, closes the WebSocket and waits for the receive loop to end.</summary>
    public async Task CloseAsync()
    {
        try
        {
            if (_connected && _socket.State == WebSocketState.Open)
            {
                await SendAsync("41" + _namespace + ",");
                using var limit = new CancellationTokenSource(Timeout);
                await _socket.CloseOutputAsync(WebSocketCloseStatus.NormalClosure, null, limit.Token);
            }
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // Already gone: nothing to tell the server.
        }
        await _closing.CancelAsync();
        await _receiving.WaitAsync(Timeout).ContinueWith(_ => { }, TaskScheduler.Default);
        _socket.Dispose();
    }

    private async Task SendAsync(string text)
    {
        var bytes = ArrayPool<byte>.Shared.Rent(Encoding.UTF8.GetMaxByteCount(text.Length));
        await _sendGate.WaitAsync();
        try
        {
            var length = Encoding.UTF8.GetBytes(text, bytes);
            using var limit = new CancellationTokenSource(Timeout);
            await _socket.SendAsync(bytes.AsMemory(0, length), WebSocketMessageType.Text, true, limit.Token);
        }
        finally
        {
            _sendGate.Release();
            ArrayPool<byte>.Shared.Return(bytes);
        }
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? failure = null;
        try
        {
            while (true)
            {
                var message = await ReceiveMessageAsync(_closing.Token);
                if (message is null)
                    break;
                Handle(message.Value);
            }
        }
        catch (Exception e)
        {
            // A transport error, a malformed packet or an event handler that threw: the connection is no use any more.
            failure = e;
        }
        finally
        {
            try
            {
                _socket.Abort();
            }
            catch (ObjectDisposedException)
            {
                // A failed connect disposed it already.
            }
            Gone(failure);
        }
    }

    /// <summary>The connection is over (closed, refused or broken): joins and acknowledgements waiting, and any that come
    /// later (<see cref="EmitAsync"/>), fail at once with the cause.</summary>
    private void Gone(Exception? cause)
    {
        _connected = false;
        var gone = new IOException("socket.io: the connection closed.", cause);
        _gone = gone;
        _joined.TrySetException(gone);
        foreach (var ack in _acks.Values)
            ack.TrySetException(gone);
    }

    /// <summary>Reads one whole WebSocket message into the buffer (growing it); null when the server closed.</summary>
    private async Task<ReadOnlyMemory<byte>?> ReceiveMessageAsync(CancellationToken cancellationToken)
    {
        var length = 0;
        while (true)
        {
            if (length == _buffer.Length)
                Array.Resize(ref _buffer, _buffer.Length * 2);
            var result = await _socket.ReceiveAsync(_buffer.AsMemory(length), cancellationToken);
            if (result.MessageType == WebSocketMessageType.Close)
                return null;
            if (result.MessageType != WebSocketMessageType.Text)
                throw new InvalidOperationException("socket.io: a binary message; the baseline sends none.");
            length += result.Count;
            if (result.EndOfMessage)
                return _buffer.AsMemory(0, length);
        }
    }

    private void Handle(ReadOnlyMemory<byte> message)
    {
        var span = message.Span;
        if (span.Length == 0)
            return;
        switch (span[0])
        {
            case (byte)'2': // Engine.IO ping
                _ = PongAsync();
                return;
            case (byte)'1': // Engine.IO close
                Gone(new InvalidOperationException("socket.io: the server closed the connection."));
                return;
            case (byte)'4': // a socket.io packet
                break;
            default:
                return;
        }
        if (span.Length < 2)
            throw new InvalidOperationException($"socket.io: a packet without a type: '{Shorten(message)}'.");
        var type = span[1];
        var rest = message[2..];
        // "/ns," before the payload (absent for the main namespace, which this client never joins).
        if (rest.Length > 0 && rest.Span[0] == (byte)'/')
        {
            var comma = rest.Span.IndexOf((byte)',');
            if (comma < 0)
                return; // "41/ns" without payload
            if (!rest.Span[..comma].SequenceEqual(_namespaceBytes))
                return; // another namespace: not ours
            rest = rest[(comma + 1)..];
        }
        var id = -1;
        var digits = 0;
        while (digits < rest.Length && rest.Span[digits] is >= (byte)'0' and <= (byte)'9')
            digits++;
        if (digits > 0)
        {
            id = int.Parse(rest.Span[..digits], provider: System.Globalization.CultureInfo.InvariantCulture);
            rest = rest[digits..];
        }
        switch (type)
        {
            case (byte)'0': // namespace joined
                _joined.TrySetResult();
                return;
            case (byte)'1': // the server left the namespace
                Gone(new InvalidOperationException($"socket.io: the server left {_namespace}."));
                return;
            case (byte)'4': // the namespace refused
                _joined.TrySetException(new InvalidOperationException($"socket.io refused {_namespace}: {Shorten(rest)}"));
                return;
            case (byte)'2': // an event
                using (var document = JsonDocument.Parse(rest))
                {
                    var packet = document.RootElement;
                    if (packet.ValueKind == JsonValueKind.Array && packet.GetArrayLength() > 0
                        && _handlers.TryGetValue(packet[0].GetString() ?? "", out var handler))
                        handler(new SocketIoArgs(packet));
                }
                return;
            case (byte)'3': // an acknowledgement
                if (_acks.TryGetValue(id, out var ack))
                {
                    using var document = JsonDocument.Parse(rest);
                    var packet = document.RootElement;
                    ack.TrySetResult(packet.GetArrayLength() > 0 ? packet[0].Clone() : default);
                }
                return;
        }
    }

    private async Task PongAsync()
    {
        try
        {
            await SendAsync("3");
        }
        catch (Exception e) when (e is WebSocketException or OperationCanceledException or ObjectDisposedException)
        {
            // The receive loop sees the connection end.
        }
    }

    private static string Shorten(ReadOnlyMemory<byte>? message) =>
        message is { } m ? Encoding.UTF8.GetString(m.Span[..Math.Min(m.Length, 200)]) : "(closed)";
}
