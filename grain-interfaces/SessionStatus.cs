namespace SupportGrid.GrainInterfaces;

/// <summary>Status names used on the wire.</summary>
public static class SessionStatus
{
    public const string New = "new";
    public const string Queued = "queued";
    public const string Connected = "connected";
    public const string Ended = "ended";
}

/// <summary>How a session ended.</summary>
public static class SessionOutcome
{
    /// <summary>The chat took place and was ended by the customer, the agent or the system.</summary>
    public const string Ended = "ended";

    /// <summary>The customer ended the chat while still waiting.</summary>
    public const string LeftQueue = "left_queue";

    /// <summary>The customer closed the page or lost the connection while waiting and did not come back in time.</summary>
    public const string Abandoned = "abandoned";

    /// <summary>The customer asked while the queue was offline and was told so.</summary>
    public const string RefusedOffline = "refused_offline";

    /// <summary>The queue was offline; the customer left a message instead.</summary>
    public const string OfflineMessage = "offline_message";

    /// <summary>The customer waited the queue's maximum wait with no overflow queue to go to, and was asked to leave a message.</summary>
    public const string TimedOut = "timed_out";
}

/// <summary>Agent status names used on the wire.</summary>
public static class AgentStatus
{
    public const string Available = "available";
    public const string Away = "away";
    public const string Offline = "offline";

    public static bool IsValid(string? status) => status is Available or Away or Offline;
}

/// <summary>Channel event types.</summary>
public static class EventTypes
{
    public const string Message = "message";
    public const string Navigate = "navigate";
    public const string Joined = "joined";
    public const string Left = "left";
    public const string Ended = "ended";
}

/// <summary>What became of a navigation sent to one customer (<see cref="CustomerPresence.Navigation"/>).</summary>
public static class NavigationStatus
{
    /// <summary>Sent; the customer's widget has not reported since.</summary>
    public const string Pending = "pending";

    /// <summary>The widget moved the page and reported from the new one.</summary>
    public const string Followed = "followed";

    /// <summary>The widget did not move the page (the target is outside the site's origins): it showed a link instead.</summary>
    public const string NotFollowed = "not_followed";
}

/// <summary>Kinds of <see cref="AgentGuide"/>: what an agent shows on a customer's page.</summary>
public static class AgentGuideKinds
{
    /// <summary>The agent's pointer at a point of the page (<c>X</c>, <c>Y</c>: CSS pixels from the document's top left).</summary>
    public const string Pointer = "pointer";

    /// <summary>An outline around the element <c>Selector</c> names.</summary>
    public const string Highlight = "highlight";

    /// <summary>Scrolls the customer's page to the element <c>Selector</c> names (and outlines it).</summary>
    public const string Scroll = "scroll";

    /// <summary>Removes the pointer and the outline.</summary>
    public const string Clear = "clear";

    public static bool IsValid(string? kind) => kind is Pointer or Highlight or Scroll or Clear;
}

/// <summary>States of a <see cref="PageViewChunk"/>.</summary>
public static class PageViewStates
{
    /// <summary>rrweb events (a part of a batch).</summary>
    public const string Events = "events";

    /// <summary>The widget stopped recording (the customer turned guiding off, the agent closed the view, the chat ended).</summary>
    public const string Stopped = "stopped";

    /// <summary>From the gateway, not the widget: the view sent more than the gateway relays, so parts were refused;
    /// the widget sends a new full snapshot once it is under the budget again.</summary>
    public const string Degraded = "degraded";

    /// <summary>Whether a widget may send this state (<see cref="Degraded"/> comes only from the gateway).</summary>
    public static bool IsValid(string? state) => state is Events or Stopped;
}

/// <summary>Kinds of <see cref="PageActivity"/>.</summary>
public static class PageActivityKinds
{
    public const string Scroll = "scroll";
    public const string Viewport = "viewport";
    public const string Visibility = "visibility";
    public const string Click = "click";
    public const string Focus = "focus";

    /// <summary>Not sent by widgets: the gateway tells the agents that it refused a customer's activity for coming too fast.</summary>
    public const string Throttled = "throttled";

    /// <summary>Whether a widget may send this kind (<see cref="Throttled"/> comes only from the gateway).</summary>
    public static bool IsValid(string? kind) => kind is Scroll or Viewport or Visibility or Click or Focus;
}

/// <summary>Member roles.</summary>
public static class Roles
{
    public const string Customer = "customer";
    public const string Agent = "agent";
    public const string System = "system";
}

/// <summary>Names shared by the silo and the gateway.</summary>
public static class StreamNames
{
    /// <summary>The stream provider that carries channel broadcasts.</summary>
    public const string Provider = "channels";

    /// <summary>Stream namespace of channel streams; the key is the channel id.</summary>
    public const string ChannelNamespace = "channel";
}
