namespace SupportGrid.Grains.Routing;

/// <summary>An available agent with room for one more chat and no open offer from this queue, as a routing policy sees it.</summary>
public sealed record AgentCandidate(string AgentId, int FreeSlots, int Capacity, DateTimeOffset IdleSince, IReadOnlyDictionary<string, int> Skills)
{
    /// <summary>Share of capacity in use, 0 (idle) to 1 (full).</summary>
    public double Load => Capacity <= 0 ? 1 : (double)(Capacity - FreeSlots) / Capacity;

    public int SkillLevel(string skill) => Skills.TryGetValue(skill, out var level) ? level : 0;
}
