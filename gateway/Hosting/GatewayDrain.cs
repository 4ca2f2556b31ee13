using System.Runtime.InteropServices;
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
 *
 * The drain runs on the signal, before the host starts stopping (DrainingLifetime replaces the console lifetime):
 * ASP.NET Core closes every SignalR connection the moment the application starts stopping (HttpConnectionManager
 * listens to ApplicationStopping), so a drain run from a hosted service's StoppingAsync reaches no one. A test that
 * sent SIGTERM showed it: the gateway logged that it asked its one client to reconnect, and the client never heard.
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

    /// <summary>Runs the drain once (later calls wait for the same one): Reconnect to every connection, then wait until
    /// they have gone or <see cref="DrainOptions.ReconnectWait"/> has passed.</summary>
    public Task DrainAsync()
    {
        lock (_drainLock)
            return _drain ??= RunDrainAsync();
    }

    private readonly Lock _drainLock = new();
    private Task? _drain;

    private async Task RunDrainAsync()
    {
        _draining = true;
        var open = Connections;
        LogDraining(logger, open);
        if (open == 0)
            return;
        await customers.Clients.All.SendAsync(ReconnectMethod);
        await agents.Clients.All.SendAsync(ReconnectMethod);
        if (Connections == 0)
            _empty.TrySetResult();
        try
        {
            await _empty.Task.WaitAsync(options.Value.ReconnectWait);
            LogDrained(logger);
        }
        catch (TimeoutException)
        {
            LogDrainTimedOut(logger, Connections, options.Value.ReconnectWait);
        }
    }

    /// <summary>A stop that did not come through <see cref="DrainingLifetime"/> (the host stopped in code) still marks the
    /// gateway as draining; its connections are being closed by ASP.NET Core at the same moment.</summary>
    public Task StoppingAsync(CancellationToken cancellationToken) => DrainAsync().WaitAsync(cancellationToken);

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

/// <summary>
/// The host's lifetime in cluster mode: like the console lifetime (SIGTERM, SIGINT and SIGQUIT stop the application),
/// but a signal first runs <see cref="GatewayDrain.DrainAsync"/> and only then stops the application, while every
/// connection is still open. A second signal during the drain stops at once.
/// </summary>
public sealed partial class DrainingLifetime(GatewayDrain drain, IHostApplicationLifetime application, ILogger<DrainingLifetime> logger)
    : IHostLifetime, IDisposable
{
    private readonly List<PosixSignalRegistration> _signals = [];
    private int _signalled;

    public Task WaitForStartAsync(CancellationToken cancellationToken)
    {
        foreach (var signal in new[] { PosixSignal.SIGTERM, PosixSignal.SIGINT, PosixSignal.SIGQUIT })
            _signals.Add(PosixSignalRegistration.Create(signal, OnSignal));
        return Task.CompletedTask;
    }

    private void OnSignal(PosixSignalContext context)
    {
        context.Cancel = true; // the process does not end here: Main returns once the host has stopped
        if (Interlocked.Increment(ref _signalled) > 1)
        {
            application.StopApplication();
            return;
        }
        LogSignal(logger, context.Signal);
        _ = Task.Run(async () =>
        {
            try
            {
                await drain.DrainAsync();
            }
            finally
            {
                application.StopApplication();
            }
        });
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public void Dispose()
    {
        foreach (var signal in _signals)
            signal.Dispose();
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Signal}: draining before stopping")]
    private static partial void LogSignal(ILogger logger, PosixSignal signal);
}
