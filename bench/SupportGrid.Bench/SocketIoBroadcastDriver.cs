using System.Text.Json;

namespace SupportGrid.Bench;

/// <summary>
/// Broadcast against the socket.io baseline (bench/baselines/socketio) with the bench's socket.io client: customers
/// <c>join</c> the channel's room on the <c>/customer</c> namespace, the agent emits <c>navigate</c> on <c>/agent</c>,
/// customers get <c>navigate</c> events. Every emit waits for the server's acknowledgement, as a hub invocation does.
/// Connections go through <see cref="SocketIoConnection"/> (namespace joined before the first emit).
/// </summary>
public sealed class SocketIoBroadcastDriver(Uri target) : IBroadcastDriver
{
    private readonly string _channelId = Guid.NewGuid().ToString();

    public string PageUrl { get; } = new Uri(target, "/demo/").AbsoluteUri;
    private readonly List<SocketIoConnection> _customers = [];
    private SocketIoConnection? _agent;

    public async Task ConnectAgentAsync(CancellationToken cancellationToken)
    {
        _agent = await SocketIoConnection.ConnectAsync(target, "/agent", _ => { }, cancellationToken);
    }

    public async Task ConnectCustomerAsync(int index, Action<string> onNavigate, CancellationToken cancellationToken)
    {
        var socket = await SocketIoConnection.ConnectAsync(target, "/customer",
            s => s.On("navigate", args => onNavigate(args[0].GetProperty("url").GetString()!)), cancellationToken);
        lock (_customers)
            _customers.Add(socket);
        await socket.EmitAsync("join", _channelId);
    }

    public Task NavigateAsync(string url, CancellationToken cancellationToken) => _agent!.EmitAsync("navigate", _channelId, url);

    public async ValueTask DisposeAsync()
    {
        foreach (var socket in _customers)
            await socket.CloseAsync();
        if (_agent is not null)
            await _agent.CloseAsync();
    }
}
