using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>
/// Skills-based routing with relaxation (like Genesys bullseye): at first only agents with every required skill at its
/// required level are eligible; once the customer has waited <see cref="QueueRouting.RelaxAfter"/>, agents with each skill
/// at <see cref="QueueRouting.RelaxedLevel"/> or more are too. Among the eligible, the best-skilled (highest total of the
/// required skills' levels) wins, then the agent idle longest.
/// </summary>
public sealed class SkillsPolicy(QueueRouting settings) : IRoutingPolicy
{
    public string? Choose(QueueEntry customer, IReadOnlyList<AgentCandidate> eligible, DateTimeOffset now)
    {
        var relaxed = settings.RelaxAfter is { } after && now - customer.EnqueuedAt >= after;
        var qualified = eligible.Where(agent => settings.RequiredSkills.All(required =>
            agent.SkillLevel(required.Key) >= (relaxed ? Math.Min(required.Value, settings.RelaxedLevel) : required.Value))).ToList();
        if (qualified.Count == 0)
            return null;
        var best = qualified.Max(Score);
        return LongestIdlePolicy.Pick(qualified.Where(a => Score(a) == best))?.AgentId;
    }

    /// <summary>When a customer who entered at <paramref name="enqueuedAt"/> becomes eligible for relaxed matching, if ever.</summary>
    public DateTimeOffset? RelaxesAt(DateTimeOffset enqueuedAt) => settings.RelaxAfter is { } after ? enqueuedAt + after : null;

    private int Score(AgentCandidate agent) => settings.RequiredSkills.Keys.Sum(agent.SkillLevel);
}
