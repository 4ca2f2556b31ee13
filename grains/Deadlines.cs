namespace SupportGrid.Grains;

/// <summary>One-shot grain timers for deadlines (offer expiry, claim lapse, grace periods).</summary>
internal static class Deadlines
{
    /// <summary>Runs <paramref name="callback"/> once at <paramref name="at"/> (at once if that has passed).</summary>
    public static IGrainTimer At(this Grain grain, DateTimeOffset at, TimeProvider time, Func<CancellationToken, Task> callback)
    {
        var due = at - time.GetUtcNow();
        return grain.RegisterGrainTimer(callback, due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan);
    }

    /// <summary>Runs <paramref name="deactivate"/> (the grain's own <c>DeactivateOnIdle</c>) once after <paramref name="linger"/>.
    /// The timer does not keep the grain alive; a grain collected earlier simply never runs it.</summary>
    public static IGrainTimer LingerThen(this Grain grain, TimeSpan linger, Action deactivate) =>
        grain.RegisterGrainTimer(_ =>
        {
            deactivate();
            return Task.CompletedTask;
        }, linger, Timeout.InfiniteTimeSpan);

    /// <summary>Replaces the deadline kept under <paramref name="key"/>.</summary>
    public static void Replace<TKey>(this Dictionary<TKey, IGrainTimer> timers, TKey key, IGrainTimer timer) where TKey : notnull
    {
        if (timers.Remove(key, out var previous))
            previous.Dispose();
        timers[key] = timer;
    }
}
