using System.Diagnostics.Metrics;

namespace SupportGrid.Gateway.Hosting;

/// <summary>
/// One more attempt for an idempotent grain call that failed because the cluster was moving under it: the silo holding
/// the grain is stopping or gone (<see cref="SiloUnavailableException"/>), refused the message while deactivating
/// (<see cref="OrleansMessageRejectionException"/>), or did not answer in time (<see cref="TimeoutException"/>). The
/// second call is routed afresh (to the grain's new activation). Use it only where repeating is safe: a message send
/// carries the client's message id and the channel stores a repeated id once, returning the first sequence number.
/// Any other failure, and a second failure, reaches the caller unchanged.
/// </summary>
public static class TransientRetry
{
    private static readonly Counter<long> Retries = GatewayTelemetry.Meter.CreateCounter<long>("supportgrid.gateway.call_retries", unit: "{call}",
        description: "Idempotent grain calls repeated once after a transient cluster failure (silo stopping or gone, timeout).");

    /// <summary>Calls <paramref name="call"/>; after a transient cluster failure calls it once more.</summary>
    public static async Task<T> OnceAsync<TState, T>(TState state, Func<TState, Task<T>> call)
    {
        try
        {
            return await call(state);
        }
        catch (Exception e) when (IsTransient(e))
        {
            Retries.Add(1);
            return await call(state);
        }
    }

    /// <summary>The failures a second call may get past.</summary>
    public static bool IsTransient(Exception e) =>
        e is SiloUnavailableException or OrleansMessageRejectionException or TimeoutException;
}
