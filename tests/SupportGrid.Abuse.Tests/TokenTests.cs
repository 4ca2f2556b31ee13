using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Security;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Abuse.Tests;

/// <summary>Agent tokens, sign-in, customer identity and resume tokens.</summary>
public sealed class TokenTests(AbuseGateway gateway) : IClassFixture<AbuseGateway>, IAsyncLifetime
{
    private readonly AbuseGateway.Slot _slot = gateway.NextSlot();
    private Bystander _bystander = null!;

    public async Task InitializeAsync() => _bystander = await Bystander.StartAsync(gateway, gateway.NextSlot());

    public async Task DisposeAsync() => await _bystander.DisposeAsync();

    [Fact]
    public async Task AConsoleConnectionIsClosedWhenItsTokenExpires()
    {
        var tokens = gateway.Services.GetRequiredService<TokenService>();
        var token = tokens.Issue(_slot.AgentId, _slot.AgentName, [], TimeSpan.FromSeconds(3));
        await using var console = gateway.Agent(token, gateway.NextAddress());
        var closed = new TaskCompletionSource<Exception?>();
        console.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "away");

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(20));
        Assert.Equal(HubConnectionState.Disconnected, console.State);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task ADisabledAgentsConsoleIsClosedAndTheyCannotSignInAgain()
    {
        var slot = gateway.NextSlot();
        var address = gateway.NextAddress();
        await using var console = gateway.Agent(await gateway.TokenAsync(slot.AgentId, address), address);
        var closed = new TaskCompletionSource<Exception?>();
        console.Closed += e => { closed.TrySetResult(e); return Task.CompletedTask; };
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "available");

        var configuration = (IConfigurationRoot)gateway.Services.GetRequiredService<IConfiguration>();
        configuration[$"SupportGrid:Agents:{slot.AgentId}:Disabled"] = "true";
        configuration.Reload();

        await closed.Task.WaitAsync(TimeSpan.FromSeconds(15));
        using var http = gateway.Http(gateway.NextAddress());
        var signIn = await http.PostAsJsonAsync("/api/auth/token", new { username = slot.AgentId, password = AbuseGateway.Password });
        Assert.Equal(HttpStatusCode.Unauthorized, signIn.StatusCode);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task FailedSignInsForOneUserSlowDownThenLockWithRetryAfter()
    {
        var slot = gateway.NextSlot();
        var statuses = new List<HttpStatusCode>();
        for (var i = 0; i < 3; i++)
        {
            using var http = gateway.Http(gateway.NextAddress()); // a new address each time: the per-user limit holds
            statuses.Add((await http.PostAsJsonAsync("/api/auth/token", new { username = slot.AgentId, password = "wrong" })).StatusCode);
        }
        Assert.Equal([HttpStatusCode.Unauthorized, HttpStatusCode.Unauthorized, HttpStatusCode.TooManyRequests], statuses);

        using var fresh = gateway.Http(gateway.NextAddress());
        var slowed = await fresh.PostAsJsonAsync("/api/auth/token", new { username = slot.AgentId, password = AbuseGateway.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, slowed.StatusCode);
        Assert.True(slowed.Headers.RetryAfter?.Delta > TimeSpan.Zero);
        Assert.Equal("application/problem+json", slowed.Content.Headers.ContentType?.MediaType);
        Assert.Contains(SecurityErrorCodes.SignInLocked, await slowed.Content.ReadAsStringAsync());
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task FailedSignInsFromOneAddressLockThatAddressOnly()
    {
        var address = gateway.NextAddress();
        using var http = gateway.Http(address);
        for (var i = 0; i < 6; i++)
            Assert.Equal(HttpStatusCode.Unauthorized, (await http.PostAsJsonAsync("/api/auth/token", new { username = $"nobody{i}", password = "x" })).StatusCode);
        var locked = await http.PostAsJsonAsync("/api/auth/token", new { username = gateway.NextSlot().AgentId, password = AbuseGateway.Password });
        Assert.Equal(HttpStatusCode.TooManyRequests, locked.StatusCode);
        Assert.True(locked.Headers.RetryAfter?.Delta > TimeSpan.FromMinutes(5));
        // The same agent from another address signs in.
        Assert.NotEmpty(await gateway.TokenAsync(_slot.AgentId, gateway.NextAddress()));
        await _bystander.StillChattingAsync();
    }

    [Theory]
    [InlineData("none")]
    [InlineData("other-key")]
    [InlineData("other-issuer")]
    [InlineData("other-audience")]
    [InlineData("expired")]
    public async Task TheAgentHubRefusesATokenThatIsNotTheGatewaysOwnAndValid(string kind)
    {
        var now = DateTime.UtcNow;
        var key = kind == "other-key" ? new SymmetricSecurityKey(RandomNumberGenerator.GetBytes(32)) : gateway.Services.GetRequiredService<TokenService>().SigningKey;
        var descriptor = new SecurityTokenDescriptor
        {
            Issuer = kind == "other-issuer" ? "someone-else" : "supportgrid",
            Audience = kind == "other-audience" ? "someone-else" : "supportgrid-agents",
            IssuedAt = now.AddHours(-2),
            NotBefore = now.AddHours(-2),
            Expires = kind == "expired" ? now.AddHours(-1) : now.AddHours(1),
            Claims = new Dictionary<string, object> { ["sub"] = _slot.AgentId, ["role"] = "admin" },
            SigningCredentials = kind == "none" ? null : new SigningCredentials(key, SecurityAlgorithms.HmacSha256),
        };
        var token = new JsonWebTokenHandler().CreateToken(descriptor);
        using var http = gateway.Http(gateway.NextAddress());
        using var request = new HttpRequestMessage(HttpMethod.Post, "/hubs/agent/negotiate?negotiateVersion=1");
        request.Headers.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(request)).StatusCode);
        using var admin = new HttpRequestMessage(HttpMethod.Get, "/api/admin/queues");
        admin.Headers.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.Unauthorized, (await http.SendAsync(admin)).StatusCode);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task TheAccessTokenQueryValueNeverReachesTheLogs()
    {
        var token = await gateway.TokenAsync(_slot.AgentId, gateway.NextAddress());
        using var http = gateway.Http(gateway.NextAddress());
        // Long polling and server-sent events carry the token in the query on every request, as the WebSocket URL does.
        var negotiate = await http.PostAsync($"/hubs/agent/negotiate?negotiateVersion=1&access_token={token}", null);
        negotiate.EnsureSuccessStatusCode();
        await using var console = gateway.Agent(token, gateway.NextAddress());
        await console.StartAsync();
        await console.InvokeAsync("SetStatus", "away");
        await console.StopAsync();

        var signature = token[(token.LastIndexOf('.') + 1)..];
        Assert.DoesNotContain(gateway.Logs.Lines, l => l.Message.Contains(signature, StringComparison.Ordinal));
        Assert.Contains(gateway.Logs.Lines, l => l.Category.StartsWith("Microsoft.AspNetCore", StringComparison.Ordinal)); // the sink does see the framework
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task ASiteAcceptsBothItsSecretsWhileRotatingAndNothingElse()
    {
        var agentAddress = gateway.NextAddress();
        await using var agent = gateway.Agent(await gateway.TokenAsync(_slot.AgentId, agentAddress), agentAddress);
        var offers = agent.Inbox<ChatOffer>("Offer");
        await agent.StartAsync();
        await agent.InvokeAsync("SetStatus", "available");
        var verified = new List<bool>();
        foreach (var (secret, hex) in new[] { (AbuseGateway.IdentitySecret, true), (AbuseGateway.PreviousIdentitySecret, true), ("wrong", true), (AbuseGateway.IdentitySecret, false) })
        {
            var mac = HMACSHA256.HashData(Encoding.UTF8.GetBytes(secret), Encoding.UTF8.GetBytes("customer-42"));
            var signature = hex ? Convert.ToHexString(mac) : Convert.ToBase64String(mac);
            await using var customer = gateway.Customer(gateway.NextAddress());
            await customer.StartAsync();
            var start = await customer.InvokeAsync<StartChatResult>("StartChat",
                new StartChatInput("demo", _slot.Queue, "Dana", null, null, "http://127.0.0.1/demo/", null, "customer-42", signature));
            verified.Add((await offers.WaitAsync(o => o.SessionId == start.SessionId)).Customer.CustomerIdVerified);
            await customer.InvokeAsync("EndChat"); // frees the agent's slot for the next offer
        }
        Assert.Equal([true, true, false, false], verified);
        await _bystander.StillChattingAsync();
    }

    [Fact]
    public async Task AResumeTokenIsLongRandomBoundToItsSessionAndDeadAfterTheChatEnds()
    {
        await using var customer = gateway.Customer(gateway.NextAddress());
        await customer.StartAsync();
        var start = await customer.InvokeAsync<StartChatResult>("StartChat",
            new StartChatInput("demo", _slot.Queue, "Dana", null, null, "http://127.0.0.1/demo/", null, null, null));
        var secret = start.ResumeToken[33..];
        Assert.True(Convert.FromBase64String(secret.Replace('-', '+').Replace('_', '/') + "=").Length >= 32);

        await using var thief = gateway.Customer(gateway.NextAddress());
        await thief.StartAsync();
        var other = Guid.NewGuid().ToString("N") + "." + secret; // the secret with another session's id
        Assert.Contains(ErrorCodes.InvalidToken, (await Assert.ThrowsAsync<HubException>(() => thief.InvokeAsync<ResumeResult>("Resume", other, 0L))).Message);
        var flipped = start.ResumeToken[..^1] + (start.ResumeToken[^1] == 'A' ? 'B' : 'A');
        Assert.Contains(ErrorCodes.InvalidToken, (await Assert.ThrowsAsync<HubException>(() => thief.InvokeAsync<ResumeResult>("Resume", flipped, 0L))).Message);

        await customer.InvokeAsync("EndChat");
        // Within the ended-session grace (2 s here) the transcript can still be read; after it the token is dead.
        await using var late = gateway.Customer(gateway.NextAddress());
        await late.StartAsync();
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        HubException? dead = null;
        while (dead is null)
        {
            try
            {
                Assert.Equal(SessionStatus.Ended, (await late.InvokeAsync<ResumeResult>("Resume", start.ResumeToken, 0L)).Status);
                await Task.Delay(250, deadline.Token); // polling for the grace to run out
            }
            catch (HubException e)
            {
                dead = e;
            }
        }
        Assert.Contains(ErrorCodes.InvalidToken, dead.Message);
        await _bystander.StillChattingAsync();
    }
}
