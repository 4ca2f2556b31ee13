namespace SupportGrid.Grains.Routing;

/// <summary>An available agent with room for one more chat and no open offer, as a routing policy sees it.</summary>
public sealed record AgentCandidate(string AgentId, int FreeSlots, DateTimeOffset IdleSince);
