using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace SupportGrid.Bench.RawSignalR;

/// <summary>
/// The raw SignalR baseline: <c>/hubs/customer</c>, <c>/hubs/agent</c> and <c>POST /api/auth/token</c> with the shapes of
/// docs/protocol.md that the load generator uses, and nothing behind them but a few dictionaries in memory. A message is
/// relayed to the peer through a SignalR group; a navigation goes to the group of the channel's customers.
/// No Orleans, no storage, no sign-in check, no idempotency store: this is the floor, not a product.
/// </summary>
public static class RawServer
{
    /// <summary>Builds the server listening on <paramref name="urls"/> (e.g. <c>http://127.0.0.1:0</c>).</summary>
    public static WebApplication Build(string urls, string[]? args = null)
    {
        var builder = WebApplication.CreateSlimBuilder(args ?? []);
        builder.WebHost.UseUrls(urls);
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddSignalR();
        builder.Services.AddSingleton<RawState>();
        var app = builder.Build();
        app.UseWebSockets();
        app.MapPost("/api/auth/token", (TokenRequest request) => Results.Ok(new TokenResponse(request.Username, 28800)));
        app.MapHub<RawCustomerHub>("/hubs/customer");
        app.MapHub<RawAgentHub>("/hubs/agent");
        return app;
    }

    public static async Task Main(string[] args)
    {
        var urls = Environment.GetEnvironmentVariable("Urls") ?? "http://127.0.0.1:5091";
        await using var app = Build(urls, args);
        await app.RunAsync();
    }
}
