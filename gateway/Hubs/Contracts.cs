using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Hubs;

/// <summary>What the widget sends to <c>StartChat</c>.</summary>
public sealed record StartChatInput(
    string? Site,
    string? Queue,
    string? Name,
    string? Phone,
    string? Email,
    string? PageUrl,
    string? PageTitle,
    string? CustomerId,
    string? CustomerIdSignature,
    string? CustomerTier = null);

/// <summary>What the widget's offline form sends to <c>LeaveMessage</c>.</summary>
public sealed record LeaveMessageInput(
    string? Site,
    string? Queue,
    string? Name,
    string? Email,
    string? Phone,
    string? Text,
    string? PageUrl,
    string? PageTitle);

/// <summary>What the widget sends to <c>JoinChat</c>: the agent's join code instead of a queue.</summary>
public sealed record JoinChatInput(
    string? Site,
    string? Code,
    string? Name,
    string? PageUrl,
    string? PageTitle);

/// <summary>What the widget sends to <c>ReportPage</c> after each page load and in-page navigation (see <see cref="PageReport"/>).</summary>
public sealed record PageReportInput(string? Url, string? Title, long NavigateSeq, bool Followed, bool Guided = true);

/// <summary>What the widget sends to <c>PageActivity</c> (see <see cref="GrainInterfaces.PageActivity"/>).</summary>
public sealed record PageActivityInput(string? Kind, int? X, int? Y, int? Width, int? Height, bool? Visible, string? Selector, string? Text);

/// <summary>What an agent sends to <c>GuideCustomers</c> (see <see cref="AgentGuide"/>): <c>SessionId</c> for one customer, null for all.</summary>
public sealed record GuideInput(string? Kind, int? X, int? Y, string? Selector, Guid? SessionId = null);

/// <summary>What the widget sends to <c>PageView</c> (see <see cref="PageViewChunk"/>).</summary>
public sealed record PageViewInput(string? State, long Seq, int Part, int Parts, string? Encoding, string? Data, string? Reason = null);

/// <summary>Answer to <c>LeaveMessage</c>.</summary>
public sealed record LeaveMessageResult(Guid MessageId);

/// <summary>Answer to a send: the event's sequence number, and for a chat message the stored event itself (the sending
/// connection gets it here rather than as a <c>Message</c> push too; see <c>ChannelFanout.RelaySentAsync</c>).</summary>
public sealed record SendResult(long Seq, ChannelEvent? Event = null);

/// <summary>A navigation pushed to a customer. <c>Follow</c>: the widget moves the page itself (the target is one of the site's
/// origins). <c>Event</c>: the channel's <c>navigate</c> event itself when it rides with the command (a navigation of every
/// customer: one frame per customer instead of two); null when it comes as its own <c>Message</c> push.</summary>
public sealed record NavigateCommand(string Url, long Seq, bool Follow, ChannelEvent? Event = null);

/// <summary>Server-to-customer calls.</summary>
public interface ICustomerClient
{
    Task QueuePosition(int position, int estimatedWaitSeconds);
    Task AgentJoined(string agentName);
    Task Message(ChannelEvent evt);
    Task Typing(Participant from, bool isTyping);
    Task Navigate(NavigateCommand command);

    /// <summary>The agent's pointer, an outline around an element, a scroll to it, or clearing them (shown only while the
    /// customer lets the agent guide).</summary>
    Task Guide(AgentGuide guide);

    /// <summary>An agent opened (<paramref name="on"/>) or closed this customer's live page view: start recording with a
    /// fresh full snapshot, or stop. The widget records only while the customer lets the agent guide.</summary>
    Task PageViewRequested(bool on);

    /// <summary>The session is over; with <paramref name="offerMessage"/> the widget offers to leave a message (the wait ran out).</summary>
    Task ChatEnded(string reason, bool offerMessage);
}

/// <summary>Server-to-agent calls.</summary>
public interface IAgentClient
{
    Task Offer(ChatOffer offer);
    Task OfferWithdrawn(Guid sessionId, string reason);
    Task Status(string status);
    Task Message(Guid channelId, ChannelEvent evt);
    Task Typing(Guid channelId, Participant from, bool isTyping);
    Task ChatEnded(Guid channelId, string reason);
    Task ChatLeft(Guid channelId, string reason);
    Task Invitation(ChatInvitation invitation);
    Task InvitationClosed(Guid channelId, string reason);

    /// <summary>Where a customer of the chat is now, and whether they followed the last navigation sent to them.</summary>
    Task CustomerPage(Guid channelId, CustomerPresence presence);

    /// <summary>What a customer of the chat did on the page (scroll, viewport, visibility, click, focus).</summary>
    Task CustomerActivity(Guid channelId, CustomerActivity activity);

    /// <summary>A piece of a customer's live page view (rrweb events), or that it stopped or was degraded.</summary>
    Task CustomerPageView(Guid channelId, CustomerPageView view);
}

/// <summary>What <c>InviteColleague</c> takes: the colleague's agent id and an optional note.</summary>
public sealed record InviteInput(string? AgentId, string? Note);

/// <summary>What <c>TransferChat</c> takes: exactly one of a queue (<c>site/queue</c>) or an agent, and an optional note.</summary>
public sealed record TransferInput(string? ToQueue, string? ToAgent, string? Note);

/// <summary>Where a chat can be transferred.</summary>
public sealed record TransferTargets(IReadOnlyList<string> Queues, IReadOnlyList<TransferAgent> Agents);

public sealed record TransferAgent(string AgentId, string DisplayName, string Status);
