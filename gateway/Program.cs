using SupportGrid.Gateway.Health;
using SupportGrid.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSupportGridCluster();
builder.AddSupportGridGateway();
builder.Services.AddSupportGridGatewayHealth();

var app = builder.Build();
app.MapSupportGrid();
app.MapSupportGridHealth();
app.Run();

/// <summary>Entry point, public so tests can host the gateway.</summary>
public partial class Program;
