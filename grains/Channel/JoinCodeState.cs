using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Channel;

/// <summary>Persistent state of a join code: where it leads and until when.</summary>
[GenerateSerializer, Alias("sg.JoinCodeState")]
public sealed class JoinCodeState
{
    [Id(0)] public JoinCodeTarget? Target { get; set; }
    [Id(1)] public DateTimeOffset ExpiresAt { get; set; }
}
