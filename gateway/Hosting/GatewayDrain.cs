using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using SupportGrid.Gateway.Health;
using SupportGrid.Gateway.Hubs;

namespace SupportGrid.Gateway.Hosting;

/*
 * A stopping gateway (SIGTERM: a rolling upgrade, a scale-down) hands its clients to the other gateways before it exits,
 * rather than letting them find out from a dropped socket. In order:
 *   1. readiness turns unhealthy at once (GatewayHealthChecks), so the load balancer stops sending new connections here;
 *   2. every open connection, on both hubs, is pushed `Reconnect`: the widget and the console finish what they are
 *      sending, reconnect (through the load balancer, to another gateway) and resume by token and sequence number;
 *      a connection that still arrives here meanwhile is told the same at once;
 *   3. the gateway waits until its clients have gone, or DrainOptions.ReconnectWait has passed, and only then stops
 *      Kestrel and its Orleans client, so a call in flight from a client that has not moved yet still completes.
 * Nothing is lost by a client that ignores the push: its connection is closed at step 3 and it resumes the same way.
 */

/// <summary>Counts this gateway's hub connections and, while draining, tells each new one to go elsewhere.</summary>
public sealed class DrainFilter(GatewayDrain drain) : IHubFilter
{
    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        drain.Connected();
        await next(context);
        if (drain.IsDraining)
            await ((Hub)context.Hub).Clients.Caller.SendAsync(GatewayDrain.ReconnectMethod);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        finally
        {
            drain.Disconnected();
        }
    }
}

/// <summary>Runs the drain when the host starts stopping (before Kestrel and the Orleans client stop).</summary>
public sealed partial class GatewayDrain(
    IHubContext<CustomerHub> customers,
    IHubContext<AgentHub> agents,
    IOptions<DrainOptions> options,
    ILogger<GatewayDrain> logger) : IHostedLifecycleService
{
    /// <summary>The push that asks a client to reconnect (to another gateway). No arguments.</summary>
    public const string ReconnectMethod = "Reconnect";

    private readonly TaskCompletionSource _empty = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _connections;
    private volatile bool _draining;

    public bool IsDraining => _draining;

    public int Connections => Volatile.Read(ref _connections);

    internal void Connected() => Interlocked.Increment(ref _connections);

    internal void Disconnected()
    {
        if (Interlocked.Decrement(ref _connections) == 0 && _draining)
            _empty.TrySetResult();
    }

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        _draining = true;
        var open = Connections;
        LogDraining(logger, open);
        if (open == 0)
            return;
        await customers.Clients.All.SendAsync(ReconnectMethod, cancellationToken);
        await agents.Clients.All.SendAsync(ReconnectMethod, cancellationToken);
        if (Connections == 0)
            _empty.TrySetResult();
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        wait.CancelAfter(options.Value.ReconnectWait);
        try
        {
            await _empty.Task.WaitAsync(wait.Token);
            LogDrained(logger);
        }
        catch (OperationCanceledException)
        {
            LogDrainTimedOut(logger, Connections, options.Value.ReconnectWait);
        }
    }

    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: asking {Connections} connections to reconnect to another gateway")]
    private static partial void LogDraining(ILogger logger, int connections);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Every client has moved to another gateway")]
    private static partial void LogDrained(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Connections} connections still open after {Wait}; closing them")]
    private static partial void LogDrainTimedOut(ILogger logger, int connections, TimeSpan wait);
}
