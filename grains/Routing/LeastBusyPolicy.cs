using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>Offers to the agent with the fewest active chats relative to capacity; among equals, the one idle longest.</summary>
public sealed class LeastBusyPolicy : IRoutingPolicy
{
    public static readonly LeastBusyPolicy Instance = new();

    public string? Choose(QueueEntry customer, IReadOnlyList<AgentCandidate> eligible, DateTimeOffset now)
    {
        if (eligible.Count == 0)
            return null;
        var lowest = eligible.Min(c => c.Load);
        return LongestIdlePolicy.Pick(eligible.Where(c => c.Load == lowest))?.AgentId;
    }
}
