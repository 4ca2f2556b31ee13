namespace SupportGrid.Grains.Tests;

/// <summary>
/// Waits for a state that no push announces (an agent grain hearing one-way that a chat ended, a record written in the
/// background by another silo), checking every 50 ms and failing after a generous deadline.
/// </summary>
public static class Eventually
{
    public static async Task HoldsAsync(Func<Task<bool>> condition, string what, int seconds = 15)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        while (!await condition())
        {
            if (deadline.IsCancellationRequested)
                throw new TimeoutException("Never happened: " + what);
            await Task.Delay(50);
        }
    }
}
