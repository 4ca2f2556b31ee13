namespace SupportGrid.Grains;

/// <summary>
/// Writes of a reentrant grain, coalesced: while one write is under way, every caller that asks for another joins the
/// next one, which starts when the current one ends and stores everything changed up to then. A busy grain then writes
/// once per storage round trip however many calls changed it, and never has two writes of the same record in flight.
/// </summary>
/// <remarks>
/// Use from the grain's own turns only (not thread-safe, like the grain's state). The write delegate must take its
/// snapshot synchronously (serialize before its first await), as the grain storages here do; whatever a caller changed
/// before it called <see cref="WriteAsync"/> is then in the write its task waits for.
/// </remarks>
public sealed class CoalescedWrites(Func<bool, Task> write)
{
    private Task _running = Task.CompletedTask;
    private TaskCompletionSource? _next;
    private bool _nextWhole;

    /// <summary>Completes when a write that started after this call has finished.</summary>
    /// <param name="whole">Passed to the write delegate if any joiner of that write asked for it.</param>
    public Task WriteAsync(bool whole = false)
    {
        _nextWhole |= whole;
        if (_next is { } joined)
            return joined.Task;
        var next = _next = new TaskCompletionSource();
        _ = RunAfterAsync(_running, next);
        return next.Task;
    }

    private async Task RunAfterAsync(Task previous, TaskCompletionSource next)
    {
        try
        {
            await previous;
        }
        catch
        {
            // Its own callers were told; this write is a new attempt.
        }
        _next = null;
        var whole = _nextWhole;
        _nextWhole = false;
        Task running;
        try
        {
            running = write(whole);
        }
        catch (Exception e)
        {
            running = Task.FromException(e);
        }
        _running = running;
        try
        {
            await running;
            next.SetResult();
        }
        catch (Exception e)
        {
            next.SetException(e);
        }
    }
}
