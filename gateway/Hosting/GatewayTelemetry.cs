namespace SupportGrid.Gateway.Hosting;

/// <summary>The gateway's own instruments live in the <c>SupportGrid</c> meter too (exported by the shared telemetry setup).</summary>
public static class GatewayTelemetry
{
    public const string MeterName = "SupportGrid";
}
