using System.Globalization;

namespace SupportGrid.Grains.Routing;

/// <summary>
/// When a site takes chats: weekly opening hours in the site's time zone, and closed dates. Bound from
/// <c>SupportGrid:Routing:Hours:{site}</c>, e.g. <c>{ "TimeZone": "Europe/London", "Weekly": { "Mon": "09:00-17:30" }, "Closed": ["2026-12-25"] }</c>.
/// A day missing from <see cref="Weekly"/> is closed; a site without hours is always open.
/// </summary>
public sealed class BusinessHours
{
    public string TimeZone { get; set; } = "UTC";

    /// <summary>Day (Mon, Tue, … Sun) to <c>HH:mm-HH:mm</c>; <c>00:00-24:00</c> is the whole day.</summary>
    public Dictionary<string, string> Weekly { get; set; } = [];

    /// <summary>Dates (yyyy-MM-dd, in the site's time zone) when the site is closed all day.</summary>
    public List<string> Closed { get; set; } = [];

    public bool IsOpen(DateTimeOffset now)
    {
        var zone = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        var local = TimeZoneInfo.ConvertTime(now, zone);
        if (Closed.Contains(local.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)))
            return false;
        var day = local.DayOfWeek.ToString()[..3];
        var entry = Weekly.FirstOrDefault(d => string.Equals(d.Key, day, StringComparison.OrdinalIgnoreCase)).Value;
        if (entry is null)
            return false;
        var (open, close) = ParseRange(entry);
        var time = local.TimeOfDay;
        return time >= open && time < close;
    }

    /// <summary>The hours as a sentence for shoppers, e.g. "Mon 09:00-17:30, Tue 09:00-17:30 (Europe/London)".</summary>
    public string Describe() => Weekly.Count == 0
        ? "closed"
        : string.Join(", ", Weekly.Select(d => $"{d.Key} {d.Value}")) + $" ({TimeZone})";

    /// <summary>Throws with the reason if the settings cannot be used (unknown time zone, a malformed range).</summary>
    public void Validate()
    {
        _ = TimeZoneInfo.FindSystemTimeZoneById(TimeZone);
        foreach (var (day, range) in Weekly)
        {
            if (!new[] { "mon", "tue", "wed", "thu", "fri", "sat", "sun" }.Contains(day.ToLowerInvariant()))
                throw new FormatException($"'{day}' is not a day; use Mon, Tue, Wed, Thu, Fri, Sat or Sun.");
            ParseRange(range);
        }
    }

    private static (TimeSpan Open, TimeSpan Close) ParseRange(string range)
    {
        var parts = range.Split('-', 2);
        if (parts.Length != 2 || !TryTime(parts[0], out var open) || !TryTime(parts[1], out var close) || close <= open)
            throw new FormatException($"'{range}' is not an opening range like 09:00-17:30.");
        return (open, close);
    }

    private static bool TryTime(string text, out TimeSpan time)
    {
        text = text.Trim();
        if (text == "24:00")
        {
            time = TimeSpan.FromHours(24);
            return true;
        }
        return TimeSpan.TryParseExact(text, @"hh\:mm", CultureInfo.InvariantCulture, out time);
    }
}
