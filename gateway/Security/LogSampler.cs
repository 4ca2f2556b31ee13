using System.Collections.Concurrent;

namespace SupportGrid.Gateway.Security;

/// <summary>Lets one log line per key through per period and counts the ones held back, so that an attack at thousands of
/// requests a second writes a line every few seconds, not thousands. Memory: one entry per key seen in the last period.</summary>
public sealed class LogSampler(TimeSpan period)
{
    private sealed class Entry
    {
        public long Next;
        public int Suppressed;
    }

    private readonly ConcurrentDictionary<string, Entry> _entries = new();
    private long _nextSweep;

    public bool ShouldLog(string key, out int suppressed)
    {
        var now = Environment.TickCount64;
        if (now >= Interlocked.Read(ref _nextSweep))
        {
            Interlocked.Exchange(ref _nextSweep, now + (long)period.TotalMilliseconds);
            foreach (var (k, e) in _entries)
            {
                if (Volatile.Read(ref e.Next) <= now)
                    _entries.TryRemove(KeyValuePair.Create(k, e));
            }
        }
        var entry = _entries.GetOrAdd(key, _ => new Entry());
        var next = Volatile.Read(ref entry.Next);
        if (now >= next && Interlocked.CompareExchange(ref entry.Next, now + (long)period.TotalMilliseconds, next) == next)
        {
            suppressed = Interlocked.Exchange(ref entry.Suppressed, 0);
            return true;
        }
        Interlocked.Increment(ref entry.Suppressed);
        suppressed = 0;
        return false;
    }
}
