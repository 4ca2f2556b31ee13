namespace SupportGrid.Silo;

/// <summary>A silo on its own (cluster mode). In standalone mode the gateway hosts the same silo in its own process.</summary>
internal static class SiloProgram
{
    public static void Main(string[] args)
    {
        var builder = WebApplication.CreateBuilder(args);
        builder.UseOrleans(silo => silo.UseSupportGridClustering(builder.Configuration).AddSupportGrid(builder.Configuration));
        var app = builder.Build();
        app.MapGet("/health/live", () => Results.Ok("live"));
        app.Run();
    }
}
