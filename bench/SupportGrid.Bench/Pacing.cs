using System.Diagnostics;

namespace SupportGrid.Bench;

/// <summary>Waits for the next send of a fixed-rate loop without spinning.</summary>
internal static class Pacing
{
    /// <summary>
    /// Returns at <paramref name="dueTimestamp"/> (a <see cref="Stopwatch"/> timestamp) or a little after, never before
    /// unless it is already due. <c>Task.Delay</c> truncates to whole milliseconds, so a loop that delays by the time left
    /// gets <c>Delay(0)</c> under a millisecond before each send and spins on the clock: at 2,000 messages a second that
    /// spinning took most of a core from the target (found with perf in session 5). The timer's granularity (about 1 ms
    /// here) makes sends late by up to that much; the loops send everything due when they wake, so the rate is kept, and
    /// latency is measured from the moment of the send.
    /// </summary>
    public static Task DelayUntilAsync(long dueTimestamp, CancellationToken cancellationToken)
    {
        var wait = Stopwatch.GetElapsedTime(Stopwatch.GetTimestamp(), dueTimestamp);
        return wait <= TimeSpan.Zero
            ? Task.CompletedTask
            : Task.Delay(TimeSpan.FromMilliseconds(Math.Ceiling(wait.TotalMilliseconds)), cancellationToken);
    }
}
