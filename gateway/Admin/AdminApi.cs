using Microsoft.AspNetCore.Http.HttpResults;
using SupportGrid.Gateway.Auth;
using SupportGrid.Gateway.Sites;
using SupportGrid.GrainInterfaces;

namespace SupportGrid.Gateway.Admin;

/// <summary>
/// Runtime settings for admins (role <c>admin</c>), taking effect at once across the cluster (they live in the queue and
/// agent grains, which persist them):
/// <c>GET|PUT|DELETE /api/admin/queues/{site}/{queue}</c> (routing of one queue; DELETE returns to the configuration) and
/// <c>GET|PUT|DELETE /api/admin/agents/{agentId}</c> (display name, capacity, queues, skills over the configured profile).
/// Bad input gets 400 ProblemDetails with the reason; an unknown queue or agent 404.
/// </summary>
public static class AdminApi
{
    public const string Policy = "admin";

    public static IEndpointRouteBuilder MapAdminApi(this IEndpointRouteBuilder routes)
    {
        var admin = routes.MapGroup("/api/admin").RequireAuthorization(Policy);
        admin.MapGet("/queues", ListQueuesAsync);
        admin.MapGet("/queues/{site}/{queue}", GetQueueAsync);
        admin.MapPut("/queues/{site}/{queue}", PutQueueAsync);
        admin.MapDelete("/queues/{site}/{queue}", ResetQueueAsync);
        admin.MapGet("/agents/{agentId}", GetAgentAsync);
        admin.MapPut("/agents/{agentId}", PutAgentAsync);
        admin.MapDelete("/agents/{agentId}", ResetAgentAsync);
        return routes;
    }

    private static async Task<Ok<QueueSettingsView[]>> ListQueuesAsync(IGrainFactory grains, SiteDirectory sites) =>
        TypedResults.Ok(await Task.WhenAll(sites.AllQueues().Select(q => grains.GetGrain<IQueueGrain>(q).GetSettingsAsync())));

    private static async Task<Results<Ok<QueueSettingsView>, ProblemHttpResult>> GetQueueAsync(IGrainFactory grains, SiteDirectory sites, string site, string queue) =>
        sites.QueueExists(QueueKey.For(site, queue))
            ? TypedResults.Ok(await grains.GetGrain<IQueueGrain>(QueueKey.For(site, queue)).GetSettingsAsync())
            : UnknownQueue(site, queue);

    private static async Task<Results<Ok<QueueSettingsView>, ProblemHttpResult>> PutQueueAsync(
        IGrainFactory grains, SiteDirectory sites, string site, string queue, QueueSettingsInput? input)
    {
        if (!sites.QueueExists(QueueKey.For(site, queue)))
            return UnknownQueue(site, queue);
        if (input is null)
            return Invalid("The body must be a JSON object of queue settings.");
        if (input.OverflowTo is { Length: > 0 } overflow && !sites.QueueExists(QueueKey.For(site, overflow)))
            return Invalid($"OverflowTo: site '{site}' has no queue '{overflow}'.");
        var current = (await grains.GetGrain<IQueueGrain>(QueueKey.For(site, queue)).GetSettingsAsync()).Settings;
        // Fields left out keep their current value, so a PUT of { "priority": 5 } changes the priority only.
        var settings = new QueueSettings(
            input.Policy ?? current.Policy,
            input.RequiredSkills ?? current.RequiredSkills,
            input.RelaxAfter ?? current.RelaxAfter,
            input.RelaxedLevel ?? current.RelaxedLevel,
            input.OfflineWhenNoAgents ?? current.OfflineWhenNoAgents,
            input.OfferToAgents ?? current.OfferToAgents,
            input.MaxWait ?? current.MaxWait,
            input.OverflowTo ?? current.OverflowTo,
            input.Priority ?? current.Priority);
        try
        {
            return TypedResults.Ok(await grains.GetGrain<IQueueGrain>(QueueKey.For(site, queue)).UpdateSettingsAsync(settings));
        }
        catch (SupportGridException e) when (e.Code == ErrorCodes.InvalidInput)
        {
            return Invalid(e.Message);
        }
    }

    private static async Task<Results<Ok<QueueSettingsView>, ProblemHttpResult>> ResetQueueAsync(IGrainFactory grains, SiteDirectory sites, string site, string queue) =>
        sites.QueueExists(QueueKey.For(site, queue))
            ? TypedResults.Ok(await grains.GetGrain<IQueueGrain>(QueueKey.For(site, queue)).UpdateSettingsAsync(null))
            : UnknownQueue(site, queue);

    private static async Task<Results<Ok<AgentSettingsView>, ProblemHttpResult>> GetAgentAsync(IGrainFactory grains, AgentDirectory agents, string agentId)
    {
        if (agents.Profile(agentId) is null)
            return UnknownAgent(agentId);
        await EnsureProfileAsync(grains, agents, agentId);
        return TypedResults.Ok(await grains.GetGrain<IAgentGrain>(agentId).GetSettingsAsync());
    }

    private static async Task<Results<Ok<AgentSettingsView>, ProblemHttpResult>> PutAgentAsync(
        IGrainFactory grains, AgentDirectory agents, SiteDirectory sites, string agentId, AgentSettings? input)
    {
        if (agents.Profile(agentId) is null)
            return UnknownAgent(agentId);
        if (input is null)
            return Invalid("The body must be a JSON object: displayName, capacity, queues, skills (each optional).");
        if (input.Queues?.FirstOrDefault(q => !sites.QueueExists(q)) is { } unknown)
            return Invalid($"queues: there is no queue '{unknown}' (name queues as site/queue).");
        try
        {
            await EnsureProfileAsync(grains, agents, agentId);
            return TypedResults.Ok(await grains.GetGrain<IAgentGrain>(agentId).UpdateSettingsAsync(input));
        }
        catch (SupportGridException e) when (e.Code == ErrorCodes.InvalidInput)
        {
            return Invalid(e.Message);
        }
    }

    private static async Task<Results<Ok<AgentSettingsView>, ProblemHttpResult>> ResetAgentAsync(IGrainFactory grains, AgentDirectory agents, string agentId)
    {
        if (agents.Profile(agentId) is null)
            return UnknownAgent(agentId);
        await EnsureProfileAsync(grains, agents, agentId);
        return TypedResults.Ok(await grains.GetGrain<IAgentGrain>(agentId).UpdateSettingsAsync(null));
    }

    /// <summary>An agent who never signed in has no profile in their grain yet; the configured one is what settings apply over.</summary>
    private static async Task EnsureProfileAsync(IGrainFactory grains, AgentDirectory agents, string agentId)
    {
        if (agents.Profile(agentId) is { } configured)
            await grains.GetGrain<IAgentGrain>(agentId).SetConfiguredProfileAsync(configured);
    }

    private static ProblemHttpResult Invalid(string detail) =>
        TypedResults.Problem(detail, statusCode: StatusCodes.Status400BadRequest, title: ErrorCodes.InvalidInput);

    private static ProblemHttpResult UnknownQueue(string site, string queue) =>
        TypedResults.Problem($"There is no queue '{site}/{queue}'.", statusCode: StatusCodes.Status404NotFound, title: ErrorCodes.InvalidInput);

    private static ProblemHttpResult UnknownAgent(string agentId) =>
        TypedResults.Problem($"There is no agent '{agentId}'.", statusCode: StatusCodes.Status404NotFound, title: ErrorCodes.InvalidInput);
}

/// <summary>Body of <c>PUT /api/admin/queues/{site}/{queue}</c>: any subset of the queue's settings.</summary>
public sealed record QueueSettingsInput(
    string? Policy,
    IReadOnlyDictionary<string, int>? RequiredSkills,
    TimeSpan? RelaxAfter,
    int? RelaxedLevel,
    bool? OfflineWhenNoAgents,
    int? OfferToAgents,
    TimeSpan? MaxWait,
    string? OverflowTo,
    int? Priority);
