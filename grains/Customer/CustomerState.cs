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

    /// <summary>Open connections of this session (ids are unique across gateways).</summary>
    [Id(8)] public HashSet<string> Connections { get; set; } = [];

    /// <summary>Since when a waiting customer has had no connection.</summary>
    [Id(9)] public DateTimeOffset? AwaySince { get; set; }

    /// <summary>How the session ended: ended by the customer or agent, or abandoned while waiting.</summary>
    [Id(10)] public string? Outcome { get; set; }

    /// <summary>The transfers of this session that were carried out (the latest few), so that a retried one is known as done.</summary>
    [Id(11)] public List<Guid> Transfers { get; set; } = [];
}
