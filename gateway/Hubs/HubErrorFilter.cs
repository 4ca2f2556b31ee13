using Microsoft.AspNetCore.SignalR;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Hubs;

/// <summary>Turns a <see cref="SupportGridException"/> into a hub error that names its reason: <c>"{code}: {message}"</c>, and
/// a transient cluster failure (a silo stopping or lost, no answer in time) into <c>unavailable</c>, so that clients can tell
/// "try again in a moment" from a bug.</summary>
public sealed class HubErrorFilter : IHubFilter
{
    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext context, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        try
        {
            return await next(context);
        }
        catch (SupportGridException e)
        {
            throw new HubException($"{e.Code}: {e.Message}");
        }
        catch (Exception e) when (Hosting.TransientRetry.IsTransient(e))
        {
            throw new HubException($"{ErrorCodes.Unavailable}: The service is recovering from a lost server; try again in a moment.");
        }
    }
}
