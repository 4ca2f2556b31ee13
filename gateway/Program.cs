using SupportGrid.Gateway.Hosting;

var builder = WebApplication.CreateBuilder(args);
builder.AddSupportGridCluster();
builder.AddSupportGridGateway();

var app = builder.Build();
app.MapSupportGrid();
app.Run();

/// <summary>Entry point, public so tests can host the gateway.</summary>
public partial class Program;
