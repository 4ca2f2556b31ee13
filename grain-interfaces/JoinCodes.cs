namespace SupportGrid.GrainInterfaces;

/// <summary>The shape of join codes: 10 characters of a 32-letter alphabet without look-alikes (50 random bits), shown
/// as <c>ABCDE-FGHJK</c>; typed in any case, with or without the dash or spaces.</summary>
public static class JoinCodes
{
    public const string Alphabet = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ";
    public const int Length = 10;

    /// <summary>The code in its normal form, or null if it cannot be a join code.</summary>
    public static string? Normalize(string? code)
    {
        if (code is null || code.Length > 40)
            return null;
        var chars = code.Where(c => c is not ('-' or ' ')).Select(char.ToUpperInvariant).ToArray();
        return chars.Length == Length && chars.All(c => Alphabet.Contains(c)) ? new string(chars) : null;
    }

    /// <summary>The code as people read it: <c>ABCDE-FGHJK</c>.</summary>
    public static string Display(string normalized) => normalized.Length == Length ? $"{normalized[..5]}-{normalized[5..]}" : normalized;
}
