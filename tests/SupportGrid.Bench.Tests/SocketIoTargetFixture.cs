using System.Diagnostics;

namespace SupportGrid.Bench.Tests;

/// <summary>
/// The socket.io baseline (bench/baselines/socketio) as a real Node.js process on 127.0.0.1 and a free port. Installs
/// its packages from the lock file first (<c>npm ci</c>), as bench/run.sh does, so it works from a clean clone; Node.js
/// and npm are already needed by the gateway's build.
/// </summary>
public sealed class SocketIoTargetFixture : IAsyncLifetime
{
    private Process? _server;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        var folder = Path.Combine(RepositoryRoot(), "bench", "baselines", "socketio");
        using (var install = Process.Start(new ProcessStartInfo("npm", "ci --no-audit --no-fund") { WorkingDirectory = folder, RedirectStandardOutput = true, RedirectStandardError = true })!)
        {
            var errors = install.StandardError.ReadToEndAsync();
            await install.StandardOutput.ReadToEndAsync();
            await install.WaitForExitAsync();
            if (install.ExitCode != 0)
                throw new InvalidOperationException($"npm ci failed in {folder}: {await errors}");
        }
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
        _server.Kill();
        await _server.WaitForExitAsync();
        _server.Dispose();
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
