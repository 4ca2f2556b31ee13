using SupportGrid.Gateway.Health;
using SupportGrid.Gateway.Hosting;
using SupportGrid.Gateway.Security;

var builder = WebApplication.CreateBuilder(args);
builder.AddSupportGridCluster();
builder.AddSupportGridGateway();
builder.AddSupportGridSecurity();
builder.Services.AddSupportGridGatewayHealth();

var app = builder.Build();
app.MapSupportGrid();
app.MapSupportGridHealth();
app.Run();

/// <summary>Entry point, public so tests can host the gateway.</summary>
public partial class Program;
