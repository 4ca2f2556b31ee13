namespace SupportGrid.Grains.Tests;

/// <summary>
/// Waits for a state that no push announces (an agent grain hearing one-way that a chat ended, a record written in the
/// background by another silo), checking every 50 ms and failing after a generous deadline.
/// </summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!await condition())
        {
            if (deadline.IsCancellationRequested)
                throw new TimeoutException("Never happened: " + what);
            await Task.Delay(50);
        }
    }
}
