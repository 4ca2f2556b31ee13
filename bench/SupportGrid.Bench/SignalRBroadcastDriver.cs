using Microsoft.AspNetCore.Http.Connections;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Bench;

/// <summary>
/// Broadcast over SignalR against the raw baseline: customers call <c>JoinChannel(channelId)</c> on <c>/hubs/customer</c>
/// (the baseline has no join codes: <see cref="SupportGridBroadcastDriver"/> joins the product's way) and the agent calls
/// <c>NavigateCustomers(channelId, url)</c> on <c>/hubs/agent</c>, as in docs/protocol.md; customers get <c>Navigate</c>.
/// </summary>
public sealed class SignalRBroadcastDriver(Uri target) : IBroadcastDriver
{
    private readonly Guid _channelId = Guid.NewGuid();

    public string PageUrl { get; } = new Uri(target, "/demo/").AbsoluteUri;
    private readonly List<HubConnection> _customers = [];
    private HubConnection? _agent;

    public async Task ConnectAgentAsync(CancellationToken cancellationToken)
    {
        _agent = Connect(target, "/hubs/agent");
        await _agent.StartAsync(cancellationToken);
    }

    public async Task ConnectCustomerAsync(int index, Action<string> onNavigate, CancellationToken cancellationToken)
    {
        var hub = Connect(target, "/hubs/customer");
        lock (_customers)
            _customers.Add(hub);
        hub.On<NavigateEvent>("Navigate", e => onNavigate(e.Url));
        await hub.StartAsync(cancellationToken);
        await hub.InvokeAsync("JoinChannel", _channelId, cancellationToken);
    }

    public Task NavigateAsync(string url, CancellationToken cancellationToken) =>
        _agent!.InvokeAsync<SendResult>("NavigateCustomers", _channelId, url, cancellationToken);

    public async ValueTask DisposeAsync()
    {
        foreach (var hub in _customers)
            await hub.DisposeAsync();
        if (_agent is not null)
            await _agent.DisposeAsync();
    }

    internal static HubConnection Connect(Uri target, string path) => new HubConnectionBuilder()
        .WithUrl(new Uri(target, path), o =>
        {
            o.Transports = HttpTransportType.WebSockets;
            o.SkipNegotiation = true;
        })
        .Build();
}
