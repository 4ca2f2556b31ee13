namespace SupportGrid.Bench.RawSignalR;

// The shapes of docs/protocol.md that the load generator reads and writes (JSON hub protocol, camelCase).

public sealed record StartChatInput(string Site, string Queue, string Name, string? Phone, string? Email, string PageUrl, string? PageTitle);

public sealed record StartChatResult(Guid SessionId, string ResumeToken, int Position);

public sealed record Participant(string Role, string Name);

public sealed record ChannelEvent(long Seq, string Type, Participant From, string? Text, string? Url, DateTimeOffset At);

public sealed record ChatOffer(Guid SessionId, string Queue);

public sealed record AcceptResult(Guid ChannelId, Guid SessionId);

public sealed record SendResult(long Seq);

public sealed record NavigateEvent(string Url, long Seq, bool Follow);

public sealed record TokenRequest(string Username, string Password);

public sealed record TokenResponse(string AccessToken, int ExpiresIn);

public sealed record ResumeResult(Guid SessionId, string Status);
