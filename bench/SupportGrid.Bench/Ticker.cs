namespace SupportGrid.Bench;

/// <summary>Calls <c>status</c> with a fresh progress text twice a second until disposed; does nothing without a
/// <c>status</c> (plain output, tests). Cheap on purpose: it shares the cores with the target.</summary>
internal sealed class Ticker : IDisposable
{
    private readonly Timer? _timer;

    private Ticker(Action<string> status, Func<string> text) =>
        _timer = new Timer(_ => status(text()), null, TimeSpan.FromMilliseconds(500), TimeSpan.FromMilliseconds(500));

    private Ticker()
    {
    }

    public static Ticker Start(Action<string>? status, Func<string> text) => status is null ? new Ticker() : new Ticker(status, text);

    public void Dispose() => _timer?.Dispose();
}
