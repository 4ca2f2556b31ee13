using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.DependencyInjection;
using SupportGrid.Bench.RawSignalR;

namespace SupportGrid.Bench.Tests;

/// <summary>The raw SignalR baseline (bench/baselines/signalr-raw) in-process on real Kestrel at 127.0.0.1, free port.</summary>
public sealed class RawTargetFixture : IAsyncLifetime
{
    private WebApplication _app = null!;

    public Uri BaseAddress { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        _app = RawServer.Build("http://127.0.0.1:0");
        await _app.StartAsync();
        var addresses = _app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses;
        BaseAddress = new Uri(addresses.First());
    }

    public async Task DisposeAsync() => await _app.DisposeAsync();
}
