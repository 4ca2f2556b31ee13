using Spectre.Console;

namespace SupportGrid.Bench;

/// <summary>
/// Progress while a run goes. On a terminal: a Spectre.Console status line (spinner, the run's tag, its latest
/// progress) with the lines worth keeping printed above it. Otherwise (redirected output, tests, CI): plain lines on
/// standard error and no progress. Standard output carries only the results tables.
/// </summary>
public sealed class Live
{
    private readonly IAnsiConsole? _console;

    private Live(IAnsiConsole? console) => _console = console;

    /// <summary>Live display when standard error is a terminal and <paramref name="plain"/> is false.</summary>
    public static Live Create(bool plain)
    {
        if (plain || Console.IsErrorRedirected || Environment.GetEnvironmentVariable("TERM") is null or "dumb")
            return new Live(null);
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        return new Live(console.Profile.Capabilities.Interactive ? console : null);
    }

    public bool IsInteractive => _console is not null;

    /// <summary>A line worth keeping.</summary>
    public void Line(string text)
    {
        if (_console is null)
            Console.Error.WriteLine(text);
        else
            _console.MarkupLine(Markup.Escape(text));
    }

    /// <summary>Runs <paramref name="body"/> with a log (lines prefixed by <paramref name="tag"/>) and, on a terminal, a
    /// status callback shown next to a spinner until the body ends.</summary>
    public async Task<T> RunAsync<T>(string tag, Func<Action<string>, Action<string>?, Task<T>> body)
    {
        void Log(string line) => Line($"{tag} {line}");
        if (_console is null)
            return await body(Log, null);
        return await _console.Status().Spinner(Spinner.Known.Dots).StartAsync(Markup.Escape(tag), async context =>
            await body(Log, status => context.Status(Markup.Escape($"{tag} {status}"))));
    }
}
