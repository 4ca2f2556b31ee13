namespace SupportGrid.Cluster.Tests;

/// <summary>
/// What a real client does with live pushes (widget and console alike): events carry gap-free sequence numbers, so a push
/// whose number skips some makes the client fetch the ones it missed. An acknowledged message counts as delivered if it
/// was pushed, or if a later push revealed the gap and a fetch from the last number seen returned it.
/// </summary>
public static class Receiver
{
    /// <summary>Checks that every sequence number in <paramref name="acknowledged"/> reached a client that saw
    /// <paramref name="pushed"/>; returns how many had to be fetched after a gap.</summary>
    public static async Task<int> AssertDeliveredAsync(IReadOnlyCollection<long> acknowledged, IReadOnlyCollection<long> pushed,
        Func<long, Task<IReadOnlyList<long>>> fetchAfter)
    {
        var seen = pushed.ToHashSet();
        var highest = seen.Count > 0 ? seen.Max() : 0;
        var fetched = 0;
        foreach (var seq in acknowledged.Order())
        {
            if (seen.Contains(seq))
                continue;
            Assert.True(seq < highest, $"message {seq} was neither pushed nor followed by a push that reveals the gap (highest pushed: {highest})");
            var recovered = await fetchAfter(seq - 1);
            Assert.Contains(seq, recovered);
            fetched++;
        }
        return fetched;
    }
}
