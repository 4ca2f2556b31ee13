using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>Offers to the agent who has been idle longest; ties go to the lower agent id so the choice is deterministic.</summary>
public sealed class LongestIdlePolicy : IRoutingPolicy
{
    public static readonly LongestIdlePolicy Instance = new();

    public string? Choose(QueueEntry customer, IReadOnlyList<AgentCandidate> eligible, DateTimeOffset now) => Pick(eligible)?.AgentId;

    internal static AgentCandidate? Pick(IEnumerable<AgentCandidate> eligible)
    {
        AgentCandidate? best = null;
        foreach (var candidate in eligible)
        {
            if (best is null
                || candidate.IdleSince < best.IdleSince
                || (candidate.IdleSince == best.IdleSince && string.CompareOrdinal(candidate.AgentId, best.AgentId) < 0))
            {
                best = candidate;
            }
        }
        return best;
    }
}
