using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Http.HttpResults;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Records;

/// <summary>
/// Usage records for supervisors and admins: <c>GET /api/sessions?from=&amp;to=&amp;queue=&amp;agent=&amp;limit=</c>,
/// <c>GET /api/sessions/{id}</c>, and the same list as CSV at <c>GET /api/sessions.csv</c>.
/// </summary>
public static class SessionsApi
{
    public const string Policy = "supervisor";
    private const int DefaultLimit = 500;

    public static IEndpointRouteBuilder MapSessionsApi(this IEndpointRouteBuilder routes)
    {
        routes.MapGet("/api/sessions", ListAsync).RequireAuthorization(Policy);
        routes.MapGet("/api/sessions.csv", CsvAsync).RequireAuthorization(Policy);
        routes.MapGet("/api/sessions/{id}", GetAsync).RequireAuthorization(Policy);
        return routes;
    }

    private static async Task<Results<Ok<IReadOnlyList<SessionSummary>>, ProblemHttpResult>> ListAsync(
        IGrainFactory grains, string? from, string? to, string? queue, string? agent, int? limit)
    {
        var (query, error) = ParseQuery(from, to, queue, agent, limit);
        if (query is null)
            return Invalid(error);
        return TypedResults.Ok(await grains.GetGrain<IRecordsGrain>(0).QueryAsync(query));
    }

    private static async Task<Results<FileContentHttpResult, ProblemHttpResult>> CsvAsync(
        IGrainFactory grains, string? from, string? to, string? queue, string? agent, int? limit)
    {
        var (query, error) = ParseQuery(from, to, queue, agent, limit);
        if (query is null)
            return Invalid(error);
        var rows = await grains.GetGrain<IRecordsGrain>(0).QueryAsync(query);
        return TypedResults.File(Encoding.UTF8.GetBytes(ToCsv(rows)), "text/csv; charset=utf-8", "sessions.csv");
    }

    private static async Task<Results<Ok<SessionRecord>, ProblemHttpResult>> GetAsync(IGrainFactory grains, string id)
    {
        if (!Guid.TryParse(id, out var sessionId))
            return TypedResults.Problem($"'{Truncate(id)}' is not a session id.", statusCode: StatusCodes.Status400BadRequest, title: ErrorCodes.InvalidInput);
        return await grains.GetGrain<IRecordsGrain>(0).GetAsync(sessionId) is { } record
            ? TypedResults.Ok(record)
            : TypedResults.Problem($"No record of session {sessionId}.", statusCode: StatusCodes.Status404NotFound, title: ErrorCodes.UnknownSession);
    }

    private static (SessionQuery? Query, string? Error) ParseQuery(string? from, string? to, string? queue, string? agent, int? limit)
    {
        DateTimeOffset? start = null, end = null;
        if (from is not null)
        {
            if (!DateTimeOffset.TryParse(from, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var f))
                return (null, $"'from' is not a date/time: '{Truncate(from)}'.");
            start = f;
        }
        if (to is not null)
        {
            if (!DateTimeOffset.TryParse(to, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var t))
                return (null, $"'to' is not a date/time: '{Truncate(to)}'.");
            end = t;
        }
        if (start is not null && end is not null && end < start)
            return (null, "'to' is before 'from'.");
        if (limit is < 1 or > 5000)
            return (null, "'limit' must be between 1 and 5000.");
        return (new SessionQuery(start, end, queue, agent, limit ?? DefaultLimit), null);
    }

    private static ProblemHttpResult Invalid(string? error) =>
        TypedResults.Problem(error, statusCode: StatusCodes.Status400BadRequest, title: ErrorCodes.InvalidInput);

    /// <summary>RFC 4180 CSV. Cells that a spreadsheet would run as a formula get a leading apostrophe.</summary>
    internal static string ToCsv(IEnumerable<SessionSummary> rows)
    {
        var csv = new StringBuilder("session_id,site,queue,customer_name,phone,email,ip,customer_id,customer_id_verified,page_url,page_title,requested_at,accepted_at,ended_at,outcome,agents,channel_id\r\n");
        foreach (var r in rows)
        {
            string?[] cells =
            [
                r.SessionId.ToString(), r.Site, r.Queue, r.Customer.Name, r.Customer.Phone, r.Customer.Email, r.Customer.Ip, r.Customer.CustomerId,
                r.Customer.CustomerIdVerified ? "true" : "false", r.PageUrl, r.PageTitle, Time(r.RequestedAt), Time(r.AcceptedAt), Time(r.EndedAt),
                r.Outcome, string.Join(' ', r.Agents), r.ChannelId?.ToString(),
            ];
            csv.AppendJoin(',', cells.Select(Cell)).Append("\r\n");
        }
        return csv.ToString();
    }

    private static string? Time(DateTimeOffset? at) => at?.ToUniversalTime().ToString("O", CultureInfo.InvariantCulture);

    private static string Cell(string? value)
    {
        if (string.IsNullOrEmpty(value))
            return "";
        if (value[0] is '=' or '+' or '-' or '@' or '\t' or '\r')
            value = "'" + value;
        return value.IndexOfAny([',', '"', '\r', '\n']) >= 0 ? "\"" + value.Replace("\"", "\"\"") + "\"" : value;
    }

    private static string Truncate(string value) => value.Length > 40 ? value[..40] + "…" : value;
}
