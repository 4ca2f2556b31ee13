using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR.Client;

namespace SupportGrid.Gateway.Tests;

/// <summary>Collects what the server pushes to one client method so a test can wait for a specific push.</summary>
public sealed class Inbox<T>
{
    private readonly Channel<T> _items = Channel.CreateUnbounded<T>();
    private readonly List<T> _seen = [];

    public static Inbox<T> On(HubConnection connection, string method)
    {
        var inbox = new Inbox<T>();
        connection.On<T>(method, item => inbox._items.Writer.TryWrite(item));
        return inbox;
    }

    public static Inbox<(TA, TB)> On<TA, TB>(HubConnection connection, string method)
    {
        var inbox = new Inbox<(TA, TB)>();
        connection.On<TA, TB>(method, (a, b) => inbox._items.Writer.TryWrite((a, b)));
        return inbox;
    }

    /// <summary>Pushes received and not yet taken by <see cref="WaitAsync"/>.</summary>
    public int Count
    {
        get { lock (_seen) return _seen.Count + _items.Reader.Count; }
    }

    /// <summary>True if a matching push arrived and was not taken. Ask after a later push on the same connection arrived
    /// (pushes keep their order), so that "not received" means never sent.</summary>
    public bool Received(Func<T, bool> match)
    {
        lock (_seen)
        {
            while (_items.Reader.TryRead(out var item))
                _seen.Add(item);
            return _seen.Any(match);
        }
    }

    public string Describe()
    {
        lock (_seen)
        {
            while (_items.Reader.TryRead(out var item))
                _seen.Add(item);
            return string.Join(" | ", _seen);
        }
    }

    /// <summary>The first push, earlier or later, that matches; throws after a generous deadline.</summary>
    public async Task<T> WaitAsync(Func<T, bool>? match = null, int seconds = 15)
    {
        match ??= _ => true;
        lock (_seen)
        {
            var index = _seen.FindIndex(x => match(x));
            if (index >= 0)
            {
                var found = _seen[index];
                _seen.RemoveAt(index);
                return found;
            }
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(seconds));
        try
        {
            while (true)
            {
                var item = await _items.Reader.ReadAsync(timeout.Token);
                if (match(item))
                    return item;
                lock (_seen)
                    _seen.Add(item);
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"No matching push within {seconds} s; saw: {string.Join(" | ", _seen)}");
        }
    }
}

/// <summary>Server pushes keyed by the first argument (channel id), for two-argument client methods.</summary>
public static class InboxExtensions
{
    public static Inbox<(TA, TB)> Inbox<TA, TB>(this HubConnection connection, string method) =>
        Tests.Inbox<(TA, TB)>.On<TA, TB>(connection, method);

    public static Inbox<T> Inbox<T>(this HubConnection connection, string method) =>
        Tests.Inbox<T>.On(connection, method);
}
