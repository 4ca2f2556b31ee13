using System.Diagnostics;

namespace SupportGrid.Bench.Tests;

/// <summary>
/// The socket.io baseline (bench/baselines/socketio) as a real Node.js process on 127.0.0.1 and a free port. Installs
/// its packages from the lock file first (<c>npm ci</c>, as bench/run.sh does) when <c>node_modules</c> is missing or
/// older than the lock file, so it works from a clean clone: Node.js and npm are already needed by the gateway's build.
/// Every step has a time limit, and disposal kills the process tree.
/// </summary>
public sealed class SocketIoTargetFixture : IAsyncLifetime
{
    /// <summary>The socket.io tests share one server process.</summary>
    public const string Collection = "socket.io baseline";

    private Process? _server;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var folder = Path.Combine(RepositoryRoot(), "bench", "baselines", "socketio");
        var marker = new FileInfo(Path.Combine(folder, "node_modules", ".package-lock.json"));
        if (!marker.Exists || marker.LastWriteTimeUtc < File.GetLastWriteTimeUtc(Path.Combine(folder, "package-lock.json")))
            await RunAsync(folder, "npm", "ci --no-audit --no-fund", TimeSpan.FromMinutes(5));
        var start = new ProcessStartInfo("node", "server.js") { WorkingDirectory = folder, RedirectStandardOutput = true };
        start.Environment["PORT"] = "0";
        _server = Process.Start(start)!;
        // The server prints "listening <port>" once it accepts connections.
        var line = await _server.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (line?.Split(' ') is not ["listening", var port])
            throw new InvalidOperationException($"socket.io server did not start: '{line}'");
        BaseAddress = new Uri($"http://127.0.0.1:{port}");
    }

    public async Task DisposeAsync()
    {
        if (_server is null)
            return;
        if (!_server.HasExited)
            _server.Kill(entireProcessTree: true);
        await _server.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(10));
        _server.Dispose();
    }

    private static async Task RunAsync(string folder, string file, string arguments, TimeSpan timeout)
    {
        using var process = Process.Start(new ProcessStartInfo(file, arguments) { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true })!;
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{file} {arguments} in {folder} did not finish within {timeout.TotalMinutes} min.");
        }
        await output;
        if (process.ExitCode != 0)
            throw new InvalidOperationException($"{file} {arguments} failed in {folder}: {await errors}");
    }

    private static string RepositoryRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "SupportGrid.slnx")))
                return dir.FullName;
        }
        throw new InvalidOperationException("SupportGrid.slnx not found above " + AppContext.BaseDirectory);
    }
}

[CollectionDefinition(SocketIoTargetFixture.Collection)]
public sealed class SocketIoTargetCollection : ICollectionFixture<SocketIoTargetFixture>;
