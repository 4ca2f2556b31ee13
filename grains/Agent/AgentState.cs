using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Agent;

/// <summary>Persistent state of an agent grain.</summary>
[GenerateSerializer, Alias("sg.AgentState")]
public sealed class AgentState
{
    [Id(0)] public AgentProfile? Profile { get; set; }
    [Id(1)] public string Status { get; set; } = AgentStatus.Offline;
    [Id(2)] public DateTimeOffset IdleSince { get; set; }
    [Id(3)] public Dictionary<Guid, AgentChat> Chats { get; set; } = [];

    /// <summary>Open console connections and the gateway each is on.</summary>
    [Id(4)] public Dictionary<string, IGatewayObserver> Connections { get; set; } = [];

    /// <summary>Open offers, so a console that reconnects sees them.</summary>
    [Id(5)] public Dictionary<Guid, ChatOffer> Offers { get; set; } = [];

    /// <summary>Offers in a row that timed out unanswered; reset by any accept or decline.</summary>
    [Id(6)] public int MissedInARow { get; set; }

    /// <summary>When the last console disconnected, while the agent is within the disconnect grace.</summary>
    [Id(7)] public DateTimeOffset? DisconnectedSince { get; set; }

    /// <summary>Open invitations from colleagues to join their chats, by channel.</summary>
    [Id(8)] public Dictionary<Guid, ChatInvitation> Invitations { get; set; } = [];

    /// <summary>Settings an admin applied at runtime over the configured profile.</summary>
    [Id(9)] public AgentSettings? Settings { get; set; }
}

[GenerateSerializer, Alias("sg.AgentChat")]
public sealed record AgentChat(
    [property: Id(0)] Guid SessionId,
    [property: Id(1)] string Queue,
    [property: Id(2)] CustomerInfo Customer,
    [property: Id(3)] string PageUrl,
    [property: Id(4)] Guid? TransferId = null);
