using Microsoft.AspNetCore.Http.HttpResults;

namespace SupportGrid.Gateway.Auth;

/// <summary><c>POST /api/auth/token</c>: an agent's username and password for a JWT.</summary>
public static class AuthApi
{
    public sealed record TokenRequest(string? Username, string? Password);

    public sealed record TokenResponse(string AccessToken, int ExpiresIn);

    public static IEndpointRouteBuilder MapAuthApi(this IEndpointRouteBuilder routes)
    {
        var group = routes.MapGroup("/api/auth");
        group.MapPost("/token", IssueToken);
        return routes;
    }

    private static async Task<Results<Ok<TokenResponse>, ProblemHttpResult>> IssueToken(
        TokenRequest? request, AgentDirectory agents, TokenService tokens, Microsoft.Extensions.Options.IOptions<AuthOptions> options,
        ISignInThrottle throttle, HttpContext http)
    {
        if (!string.IsNullOrEmpty(options.Value.Authority))
            return TypedResults.Problem("Agents sign in with the configured identity provider.", statusCode: StatusCodes.Status404NotFound);
        if (string.IsNullOrWhiteSpace(request?.Username) || string.IsNullOrEmpty(request.Password))
            return TypedResults.Problem("username and password are required.", statusCode: StatusCodes.Status400BadRequest, title: "invalid_input");
        var address = http.Connection.RemoteIpAddress?.ToString();
        if (await throttle.RetryAfterAsync(request.Username, address) is { } wait)
        {
            var seconds = (int)Math.Ceiling(wait.TotalSeconds);
            http.Response.Headers.RetryAfter = seconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            return TypedResults.Problem($"Too many failed sign-ins; try again in {seconds} s.",
                statusCode: StatusCodes.Status429TooManyRequests, title: Security.SecurityErrorCodes.SignInLocked);
        }
        var agent = agents.Find(request.Username);
        // Verify against a dummy hash for unknown users too, so the answer time does not reveal which usernames exist.
        var ok = PasswordHash.Verify(request.Password, agent?.PasswordHash ?? DummyHash) && agent is not null;
        if (!ok)
            await throttle.FailedAsync(request.Username, address);
        else
            await throttle.SucceededAsync(request.Username);
        if (!ok)
            return TypedResults.Problem("Unknown username or wrong password.", statusCode: StatusCodes.Status401Unauthorized, title: "invalid_credentials");
        return TypedResults.Ok(new TokenResponse(
            tokens.Issue(request.Username, agent!.DisplayName ?? request.Username, agent.Roles),
            (int)options.Value.TokenLifetime.TotalSeconds));
    }

    private static readonly string DummyHash = PasswordHash.Create(Guid.NewGuid().ToString());
}
