namespace SupportGrid.Bench;

// The few shapes of the public protocol (docs/protocol.md) the load generator reads. JSON hub protocol, camelCase.

internal sealed record StartChatInput(string Site, string Queue, string Name, string? Phone, string? Email, string PageUrl, string? PageTitle,
    string? CustomerId = null, string? CustomerIdSignature = null);

internal sealed record StartChatResult(Guid SessionId, string ResumeToken, int Position);

internal sealed record Participant(string Role, string Name);

internal sealed record ChannelEvent(long Seq, string Type, Participant From, string? Text);

internal sealed record ChatOffer(Guid SessionId, string Queue);

internal sealed record AcceptResult(Guid ChannelId, Guid SessionId);

internal sealed record SendResult(long Seq);

internal sealed record TokenRequest(string Username, string Password);

internal sealed record TokenResponse(string AccessToken, int ExpiresIn);

internal sealed record ResumeResult(Guid SessionId, string Status);

internal sealed record NavigateEvent(string Url, long Seq, bool Follow);

internal sealed record JoinCodeResult(string Code, Guid ChannelId, DateTimeOffset ExpiresAt, string? Url);

internal sealed record JoinChatInput(string Site, string Code, string Name, string PageUrl, string? PageTitle);

internal sealed record JoinChatResult(Guid SessionId, string ResumeToken, Guid ChannelId, string AgentName);

internal sealed record PageViewChunk(string State, long Seq, int Part, int Parts, string? Encoding, string? Data, string? Reason);

internal sealed record CustomerPageView(Guid SessionId, string Name, PageViewChunk Chunk);
