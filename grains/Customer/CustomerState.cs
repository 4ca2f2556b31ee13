using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Customer;

/// <summary>Persistent state of a customer session.</summary>
[GenerateSerializer, Alias("sg.CustomerState")]
public sealed class CustomerState
{
    [Id(0)] public ChatRequest? Request { get; set; }
    [Id(1)] public string Status { get; set; } = SessionStatus.New;

    /// <summary>SHA-256 of the resume secret; the secret itself is never stored.</summary>
    [Id(2)] public byte[] SecretHash { get; set; } = [];
    [Id(3)] public Guid? ChannelId { get; set; }
    [Id(4)] public string? AgentName { get; set; }
    [Id(5)] public DateTimeOffset CreatedAt { get; set; }
    [Id(6)] public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Gateways holding a connection of this session.</summary>
    [Id(7)] public List<IGatewayObserver> Gateways { get; set; } = [];
}
