using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Orleans.Metadata;

namespace SupportGrid.Silo;

/// <summary>
/// Remembers the <see cref="GrainInterfaceType"/> of each grain interface. Orleans 10 works it out again on every
/// <c>GetGrain</c> call (reflection over the interface's attributes, then formatting and parsing its type name): at 2,000
/// chat messages a second that was a tenth of everything the process allocated (docs/benchmarks.md, session 6).
/// </summary>
/// <remarks>
/// Registered as the first <see cref="IGrainInterfaceTypeProvider"/>, so the resolver asks it before any other. On a miss it
/// asks the resolver itself, with this provider stood aside for that one call, so the answer is exactly what Orleans would
/// give; generic interfaces are left to Orleans (their type arguments are added after the providers answer).
/// </remarks>
public sealed class GrainInterfaceTypeCache(IServiceProvider services) : IGrainInterfaceTypeProvider
{
    private readonly ConcurrentDictionary<Type, GrainInterfaceType> _known = new();
    [ThreadStatic] private static bool t_resolving;

    public bool TryGetGrainInterfaceType(Type type, out GrainInterfaceType grainInterfaceType)
    {
        if (_known.TryGetValue(type, out grainInterfaceType))
            return true;
        if (t_resolving || type.IsGenericType)
            return false;
        t_resolving = true;
        try
        {
            grainInterfaceType = services.GetRequiredService<GrainInterfaceTypeResolver>().GetGrainInterfaceType(type);
        }
        finally
        {
            t_resolving = false;
        }
        _known.TryAdd(type, grainInterfaceType);
        return true;
    }

    /// <summary>Puts the cache before Orleans' own providers.</summary>
    public static void AddTo(IServiceCollection services) =>
        services.Insert(0, ServiceDescriptor.Singleton<IGrainInterfaceTypeProvider, GrainInterfaceTypeCache>());
}
