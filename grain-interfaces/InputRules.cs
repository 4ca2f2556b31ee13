namespace SupportGrid.GrainInterfaces;

/// <summary>Limits and checks on input, shared by the gateway (first line) and the grains (last line).</summary>
public static class InputRules
{
    public const int MaxMessageLength = 4000;
    public const int MaxNameLength = 100;
    public const int MaxUrlLength = 2048;
    public const int MaxClientMessageIdLength = 100;

    /// <summary>Throws unless <paramref name="url"/> is an absolute http or https URL of reasonable length.</summary>
    public static Uri RequireNavigableUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
            throw new SupportGridException(ErrorCodes.InvalidUrl, "A URL is required.");
        if (url.Length > MaxUrlLength)
            throw new SupportGridException(ErrorCodes.InvalidUrl, $"The URL is longer than {MaxUrlLength} characters.");
        if (!Uri.TryCreate(url.Trim(), UriKind.Absolute, out var uri))
            throw new SupportGridException(ErrorCodes.InvalidUrl, "The URL is not an absolute URL.");
        if (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps)
            throw new SupportGridException(ErrorCodes.InvalidUrl, $"Only http and https URLs can be opened; '{uri.Scheme}:' is refused.");
        return uri;
    }

    /// <summary>Throws unless the text is a non-empty message within the length limit; returns it trimmed.</summary>
    public static string RequireMessageText(string? text)
    {
        var trimmed = text?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            throw new SupportGridException(ErrorCodes.InvalidInput, "The message is empty.");
        if (trimmed.Length > MaxMessageLength)
            throw new SupportGridException(ErrorCodes.MessageTooLong, $"The message is longer than {MaxMessageLength} characters.");
        return trimmed;
    }

    public const int MaxSelectorLength = 300;

    /// <summary>Throws unless <paramref name="selector"/> looks like a CSS selector an agent may point at: 1 to
    /// <see cref="MaxSelectorLength"/> characters, one line, none of <c>{ } ; &lt;</c> (which belong to style sheets and
    /// markup, never to a selector). The customer's browser checks the syntax itself and finds the element (or not).</summary>
    public static string RequireSelector(string? selector)
    {
        var trimmed = selector?.Trim();
        if (string.IsNullOrEmpty(trimmed))
            throw new SupportGridException(ErrorCodes.InvalidInput, "A CSS selector is required.");
        if (trimmed.Length > MaxSelectorLength)
            throw new SupportGridException(ErrorCodes.InvalidInput, $"The selector is longer than {MaxSelectorLength} characters.");
        if (trimmed.Any(c => char.IsControl(c) || c is '{' or '}' or ';' or '<'))
            throw new SupportGridException(ErrorCodes.InvalidInput, "The selector holds a character no CSS selector has (a line break, {, }, ; or <).");
        return trimmed;
    }

    /// <summary>Throws unless the client message id is present and short.</summary>
    public static void RequireClientMessageId(string? clientMessageId)
    {
        if (string.IsNullOrWhiteSpace(clientMessageId) || clientMessageId.Length > MaxClientMessageIdLength)
            throw new SupportGridException(ErrorCodes.InvalidInput, $"clientMessageId is required and at most {MaxClientMessageIdLength} characters.");
    }
}
