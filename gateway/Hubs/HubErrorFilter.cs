using Microsoft.AspNetCore.SignalR;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Hubs;

/// <summary>Turns a <see cref="SupportGridException"/> into a hub error that names its reason: <c>"{code}: {message}"</c>.</summary>
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
    }
}
