namespace SupportGrid.GrainInterfaces;

/// <summary>
/// A refusal the caller should see: an unknown session, a channel the caller is not a member of, an invalid URL, a message too long.
/// The gateway turns it into a hub error or a ProblemDetails that names <see cref="Code"/> and the message.
/// </summary>
[GenerateSerializer, Alias("sg.SupportGridException")]
public sealed class SupportGridException : Exception
{
    public SupportGridException(string code, string message) : base(message) => Code = code;

    [Id(0)]
    public string Code { get; }
}

/// <summary>Error codes carried by <see cref="SupportGridException"/>.</summary>
public static class ErrorCodes
{
    public const string UnknownSession = "unknown_session";
    public const string InvalidToken = "invalid_token";
    public const string NotMember = "not_member";
    public const string InvalidUrl = "invalid_url";
    public const string MessageTooLong = "message_too_long";
    public const string InvalidInput = "invalid_input";
    public const string InvalidState = "invalid_state";
    public const string OfferNotFound = "offer_not_found";
    public const string AtCapacity = "at_capacity";
    public const string ChannelEnded = "channel_ended";
    public const string Offline = "offline";
    public const string InvalidCode = "invalid_code";

    /// <summary>The caller sends more than the gateway relays (page activity, the agent's pointer, the live page view);
    /// the call is refused, nothing of it is relayed, and the caller should send less (see docs/cobrowse.md).</summary>
    public const string Throttled = "throttled";

    /// <summary>The cluster was moving under the call (a silo stopping or gone, no answer in time): nothing is known to have
    /// happened; the caller should try again in a moment (idempotent calls are safe to repeat).</summary>
    public const string Unavailable = "unavailable";
}
