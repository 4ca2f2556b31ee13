using System.Net;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.SignalR;
using Microsoft.Extensions.Options;
using Microsoft.Net.Http.Headers;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Hubs;
using SupportGrid.Gateway.Sites;

namespace SupportGrid.Gateway.Security;

/// <summary>
/// Every hub call passes here before the hub sees it. SignalR's rate-limiting middleware sees only the HTTP request that
/// opened a connection, so the limits on calls live in this filter:
/// <list type="bullet">
/// <item>connections per address (a new one past the cap is refused at connect with a hub error);</item>
/// <item>a token bucket per connection and one per address for all calls, and new chats per address per minute
///   (past a limit: hub error <c>rate_limited</c>; after <see cref="SecurityOptions.RefusalsBeforeDisconnect"/> refusals in
///   a row the connection is closed);</item>
/// <item>on the customer hub, the site a chat names must accept the page's origin (the middleware only knew it is some site's);</item>
/// <item>on the agent hub, a disabled or removed agent's connection is closed at its next call, and at once when the
///   configuration changes (<see cref="AgentConnectionRevoker"/>).</item>
/// </list>
/// The limiters are partitioned by key, so one caller's bucket never drains another's. Connections and new chats per
/// address are counted by <see cref="IAddressLimits"/>: by this gateway alone, or in cluster mode by all gateways together.
/// </summary>
public sealed partial class HubAbuseFilter : IHubFilter, IDisposable
{
    private readonly SecurityOptions _options;
    private readonly SiteDirectory _sites;
    private readonly AgentDirectory _agents;
    private readonly AgentConnectionRevoker _revoker;
    private readonly ILogger<HubAbuseFilter> _logger;
    private readonly PartitionedRateLimiter<string> _perConnection;
    private readonly PartitionedRateLimiter<string> _perAddress;
    private readonly IAddressLimits _addressLimits;

    private const string StateKey = "sg.abuse";

    private readonly AddressPenalties _penalties;
    private readonly LogSampler _rateLimitLog = new(TimeSpan.FromSeconds(10));

    public HubAbuseFilter(IOptions<SecurityOptions> options, SiteDirectory sites, AgentDirectory agents, AgentConnectionRevoker revoker,
        AddressPenalties penalties, IAddressLimits addressLimits, ILogger<HubAbuseFilter> logger)
    {
        _addressLimits = addressLimits;
        _penalties = penalties;
        _options = options.Value;
        _sites = sites;
        _agents = agents;
        _revoker = revoker;
        _logger = logger;
        var o = _options;
        _perConnection = Buckets(o.CallBurstPerConnection, o.CallsPerSecondPerConnection, TimeSpan.FromSeconds(1));
        _perAddress = Buckets(o.CallBurstPerAddress, o.CallsPerSecondPerAddress, TimeSpan.FromSeconds(1));
    }

    public async Task OnConnectedAsync(HubLifetimeContext context, Func<HubLifetimeContext, Task> next)
    {
        var http = context.Context.GetHttpContext();
        var address = http?.Connection.RemoteIpAddress is { } ip ? Canonical(ip) : "unknown";
        var state = new ConnectionState(address, http?.Request.Headers[HeaderNames.Origin].ToString() ?? "",
            http is null ? "" : OriginCheckMiddleware.GatewayOrigin(http.Request));
        if (!await _addressLimits.TryConnectAsync(address))
        {
            LogTooManyConnections(_logger, address, _options.ConnectionsPerAddress);
            throw new HubException($"{SecurityErrorCodes.TooManyConnections}: This address already has {_options.ConnectionsPerAddress} open connections.");
        }
        context.Context.Items[StateKey] = state;
        try
        {
            await next(context);
        }
        catch
        {
            context.Context.Items.Remove(StateKey);
            _addressLimits.Disconnect(address);
            throw;
        }
        if (context.Hub is AgentHub && context.Context.UserIdentifier is { } agentId)
            _revoker.Track(context.Context, agentId);
    }

    public async Task OnDisconnectedAsync(HubLifetimeContext context, Exception? exception, Func<HubLifetimeContext, Exception?, Task> next)
    {
        try
        {
            await next(context, exception);
        }
        finally
        {
            _revoker.Forget(context.Context.ConnectionId);
            if (context.Context.Items.Remove(StateKey, out var value) && value is ConnectionState state)
                _addressLimits.Disconnect(state.Address);
        }
    }

    public async ValueTask<object?> InvokeMethodAsync(HubInvocationContext invocation, Func<HubInvocationContext, ValueTask<object?>> next)
    {
        var context = invocation.Context;
        // TryGetValue: a call still being dispatched as the connection closes finds the state already gone (the indexer
        // threw KeyNotFoundException, which reached the caller as "an unexpected error").
        if (!context.Items.TryGetValue(StateKey, out var value) || value is not ConnectionState state)
            throw new HubException($"{SecurityErrorCodes.RateLimited}: The connection is closing.");
        if (invocation.Hub is AgentHub && context.UserIdentifier is { } agentId && _agents.Find(agentId) is null)
        {
            context.Abort();
            throw new HubException($"{GrainInterfaces.ErrorCodes.NotMember}: '{agentId}' is no longer an agent of this deployment.");
        }
        var method = invocation.HubMethodName;
        var opensChat = invocation.Hub is CustomerHub && method is "StartChat" or "JoinChat" or "LeaveMessage";
        string? refusal = null;
        using (var connectionLease = _perConnection.AttemptAcquire(context.ConnectionId))
        using (var addressLease = connectionLease.IsAcquired ? _perAddress.AttemptAcquire(state.Address) : null)
        {
            if (!connectionLease.IsAcquired)
                refusal = $"Too many calls on this connection; at most {_options.CallsPerSecondPerConnection} a second.";
            else if (addressLease?.IsAcquired != true)
                refusal = $"Too many calls from this address; at most {_options.CallsPerSecondPerAddress} a second.";
        }
        if (refusal is null && opensChat && !await _addressLimits.TryOpenChatAsync(state.Address))
            refusal = $"Too many new chats from this address; at most {_options.ChatsPerAddressPerMinute} a minute.";
        if (refusal is not null)
        {
            var strikes = Interlocked.Increment(ref state.Refusals);
            if (_rateLimitLog.ShouldLog(state.Address, out var unlogged))
                LogRateLimited(_logger, method, state.Address, strikes, unlogged);
            if (strikes >= _options.RefusalsBeforeDisconnect)
            {
                var cooldown = _penalties.Punish(state.Address);
                LogDisconnected(_logger, state.Address, strikes, cooldown);
                context.Abort();
                throw new HubException($"{SecurityErrorCodes.RateLimited}: {refusal} The connection is closed after {strikes} refused calls; this address may connect again in {Math.Ceiling(cooldown.TotalSeconds):F0} s.");
            }
            throw new HubException($"{SecurityErrorCodes.RateLimited}: {refusal} Slow down and try again.");
        }
        Interlocked.Exchange(ref state.Refusals, 0);
        if (invocation.Hub is CustomerHub && state.Origin.Length > 0 && SiteOf(invocation) is { } site
            && !_sites.AcceptsOrigin(site, state.Origin, state.GatewayOrigin) && _sites.Find(site) is not null)
        {
            LogForeignSite(_logger, state.Origin, site, state.Address);
            throw new HubException($"{SecurityErrorCodes.ForbiddenOrigin}: Site '{site}' does not accept pages from this origin.");
        }
        return await next(invocation);
    }

    /// <summary>The site a customer-hub call names, for the calls that name one.</summary>
    private static string? SiteOf(HubInvocationContext invocation) =>
        invocation.HubMethodName switch
        {
            "StartChat" when invocation.HubMethodArguments is [StartChatInput input] => input.Site,
            "JoinChat" when invocation.HubMethodArguments is [JoinChatInput input] => input.Site,
            "LeaveMessage" when invocation.HubMethodArguments is [LeaveMessageInput input] => input.Site,
            "GetAvailability" when invocation.HubMethodArguments is [string site, ..] => site,
            _ => null,
        };

    /// <summary>IPv4 addresses mapped into IPv6 count as the IPv4 address; an IPv6 client is limited by its /64.</summary>
    internal static string Canonical(IPAddress ip)
    {
        if (ip.IsIPv4MappedToIPv6)
            return ip.MapToIPv4().ToString();
        if (ip.AddressFamily == System.Net.Sockets.AddressFamily.InterNetworkV6)
        {
            var bytes = ip.GetAddressBytes();
            Array.Clear(bytes, 8, 8);
            return new IPAddress(bytes) + "/64";
        }
        return ip.ToString();
    }

    private static PartitionedRateLimiter<string> Buckets(int burst, int perPeriod, TimeSpan period)
    {
        var options = new TokenBucketRateLimiterOptions
        {
            TokenLimit = burst,
            TokensPerPeriod = perPeriod,
            ReplenishmentPeriod = period,
            AutoReplenishment = true,
            QueueLimit = 0,
        };
        // Both delegates made once: the partition lookup runs on every hub call.
        Func<string, TokenBucketRateLimiterOptions> optionsOf = _ => options;
        return PartitionedRateLimiter.Create<string, string>(key => RateLimitPartition.GetTokenBucketLimiter(key, optionsOf));
    }

    public void Dispose()
    {
        _perConnection.Dispose();
        _perAddress.Dispose();
    }

    private sealed class ConnectionState(string address, string origin, string gatewayOrigin)
    {
        public string Address { get; } = address;
        public string Origin { get; } = origin;
        public string GatewayOrigin { get; } = gatewayOrigin;
        public int Refusals;
    }

    [LoggerMessage(EventId = 8002, Level = LogLevel.Warning, Message = "Refused a connection from {Address}: it has {Limit} open connections")]
    private static partial void LogTooManyConnections(ILogger logger, string address, int limit);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Information, Message = "Refused hub call {Method} from {Address} past a rate limit ({Refusals} in a row; {Unlogged} more refusals of this address since the last such line)")]
    private static partial void LogRateLimited(ILogger logger, string method, string address, int refusals, int unlogged);

    [LoggerMessage(EventId = 8004, Level = LogLevel.Warning, Message = "Closed a connection from {Address} after {Refusals} refused calls in a row; the address may not connect for {Cooldown}")]
    private static partial void LogDisconnected(ILogger logger, string address, int refusals, TimeSpan cooldown);

    [LoggerMessage(EventId = 8005, Level = LogLevel.Warning, Message = "Refused a chat call from origin {Origin} for site {Site} (address {Address})")]
    private static partial void LogForeignSite(ILogger logger, string origin, string site, string address);
}
