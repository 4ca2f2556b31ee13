using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>Chooses which eligible agent is offered a waiting customer. Pure: no I/O, no state; time is passed in.</summary>
public interface IRoutingPolicy
{
    /// <summary>The chosen agent id, or null to leave the customer waiting.</summary>
    string? Choose(QueueEntry customer, IReadOnlyList<AgentCandidate> eligible, DateTimeOffset now);
}
