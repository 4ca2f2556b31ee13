namespace SupportGrid.Grains.CustomerProfile;

/// <summary>Persistent state of a verified customer's profile.</summary>
[GenerateSerializer, Alias("sg.CustomerProfileState")]
public sealed class CustomerProfileState
{
    [Id(0)] public string? LastAgentId { get; set; }
    [Id(1)] public DateTimeOffset? LastServedAt { get; set; }
}
