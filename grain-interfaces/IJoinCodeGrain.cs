namespace SupportGrid.GrainInterfaces;

/// <summary>
/// One join code: a short random code that leads customers into an agent's channel until it expires.
/// Key: the code in its normal form (<see cref="JoinCodes.Normalize"/>: upper case, no separators).
/// </summary>
[Alias("sg.IJoinCodeGrain")]
public interface IJoinCodeGrain : IGrainWithStringKey
{
    /// <summary>Registers the code for <paramref name="target"/> until <paramref name="expiresAt"/>. False if the code is
    /// already in use for another channel (the caller draws another).</summary>
    [Alias("Register")]
    Task<bool> RegisterAsync(JoinCodeTarget target, DateTimeOffset expiresAt);

    /// <summary>Where the code leads. Refused with <see cref="ErrorCodes.InvalidCode"/> when it is unknown or expired.</summary>
    [Alias("Resolve")]
    Task<JoinCodeTarget> ResolveAsync();
}
