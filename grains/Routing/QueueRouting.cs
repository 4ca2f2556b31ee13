using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Routing;

/// <summary>
/// How one queue routes. Bound from <c>SupportGrid:Routing:Queues:{site}:{queue}</c>; a queue without settings routes to the
/// agent idle longest.
/// </summary>
public sealed class QueueRouting
{
    /// <summary><c>longest-idle</c> (default), <c>least-busy</c> or <c>skills</c>.</summary>
    public string Policy { get; set; } = RoutingPolicies.LongestIdle;

    /// <summary>For <c>skills</c>: each required skill and the level (1-10) an agent needs.</summary>
    public Dictionary<string, int> RequiredSkills { get; set; } = [];

    /// <summary>For <c>skills</c>: after this wait, agents with the required skills at <see cref="RelaxedLevel"/> qualify.</summary>
    public TimeSpan? RelaxAfter { get; set; }

    public int RelaxedLevel { get; set; } = 1;

    /// <summary>Refuse new chats (and offer the offline message) while no agent of this queue is available.
    /// Null: the deployment's <see cref="RoutingOptions.OfflineWhenNoAgents"/>.</summary>
    public bool? OfflineWhenNoAgents { get; set; }

    /// <summary>How many agents are offered a customer at once; the first to accept takes the chat (default 1: one at a time).</summary>
    public int OfferToAgents { get; set; } = 1;

    /// <summary>Longest wait in this queue; then the customer moves to <see cref="OverflowTo"/>, or, with none, is asked to leave a message.</summary>
    public TimeSpan? MaxWait { get; set; }

    /// <summary>Queue of the same site that takes customers who waited <see cref="MaxWait"/> here.</summary>
    public string? OverflowTo { get; set; }

    /// <summary>Priority of the queue for agents who serve several: a free agent is offered to higher-priority queues first.</summary>
    public int Priority { get; set; }

    /// <summary>Throws with the reason if the settings cannot work.</summary>
    public void Validate(string site, string queue)
    {
        CreatePolicy();
        if (OfferToAgents is < 1 or > 20)
            throw new InvalidOperationException($"Queue {site}/{queue}: OfferToAgents must be 1 to 20, not {OfferToAgents}.");
        if (MaxWait is { } wait && wait <= TimeSpan.Zero)
            throw new InvalidOperationException($"Queue {site}/{queue}: MaxWait must be positive.");
        if (OverflowTo is not null && MaxWait is null)
            throw new InvalidOperationException($"Queue {site}/{queue}: OverflowTo needs a MaxWait.");
        if (OverflowTo == queue)
            throw new InvalidOperationException($"Queue {site}/{queue}: a queue cannot overflow to itself.");
    }

    public QueueSettings ToSettings() => new(Policy, new Dictionary<string, int>(RequiredSkills), RelaxAfter, RelaxedLevel,
        OfflineWhenNoAgents, OfferToAgents, MaxWait, OverflowTo, Priority);

    /// <summary>Settings from the admin API, checked like configuration (throws <see cref="SupportGridException"/> with the reason).</summary>
    public static QueueRouting From(QueueSettings settings, string site, string queue)
    {
        var routing = new QueueRouting
        {
            Policy = settings.Policy,
            RequiredSkills = new Dictionary<string, int>(settings.RequiredSkills ?? new Dictionary<string, int>()),
            RelaxAfter = settings.RelaxAfter,
            RelaxedLevel = settings.RelaxedLevel,
            OfflineWhenNoAgents = settings.OfflineWhenNoAgents,
            OfferToAgents = settings.OfferToAgents,
            MaxWait = settings.MaxWait,
            OverflowTo = string.IsNullOrWhiteSpace(settings.OverflowTo) ? null : settings.OverflowTo.Trim(),
            Priority = settings.Priority,
        };
        try
        {
            routing.Validate(site, queue);
        }
        catch (InvalidOperationException e)
        {
            throw new SupportGridException(ErrorCodes.InvalidInput, e.Message);
        }
        if (routing.RequiredSkills.Any(s => s.Value is < 1 or > 10 || string.IsNullOrWhiteSpace(s.Key)))
            throw new SupportGridException(ErrorCodes.InvalidInput, $"Queue {site}/{queue}: required skill levels must be 1 to 10.");
        if (routing.RelaxedLevel is < 1 or > 10)
            throw new SupportGridException(ErrorCodes.InvalidInput, $"Queue {site}/{queue}: RelaxedLevel must be 1 to 10.");
        if (routing.Priority is < -1000 or > 1000)
            throw new SupportGridException(ErrorCodes.InvalidInput, $"Queue {site}/{queue}: Priority must be -1000 to 1000.");
        return routing;
    }

    public IRoutingPolicy CreatePolicy() => Policy switch
    {
        RoutingPolicies.LongestIdle => LongestIdlePolicy.Instance,
        RoutingPolicies.LeastBusy => LeastBusyPolicy.Instance,
        RoutingPolicies.Skills => new SkillsPolicy(this),
        _ => throw new InvalidOperationException($"Unknown routing policy '{Policy}'; use longest-idle, least-busy or skills."),
    };
}

public static class RoutingPolicies
{
    public const string LongestIdle = "longest-idle";
    public const string LeastBusy = "least-busy";
    public const string Skills = "skills";
}

/// <summary>Routing settings of the whole deployment. Bound from <c>SupportGrid:Routing</c>.</summary>
public sealed class RoutingOptions
{
    public const string Section = "SupportGrid:Routing";

    /// <summary>Queue settings by site, then queue name.</summary>
    public Dictionary<string, Dictionary<string, QueueRouting>> Queues { get; set; } = [];

    /// <summary>Priority of a verified customer's tier (e.g. <c>vip: 10</c>); higher is served first. Unknown tiers count 0.</summary>
    public Dictionary<string, int> TierPriorities { get; set; } = [];

    /// <summary>How long a returning verified customer waits for their previous agent or account manager before anyone may take them.</summary>
    public TimeSpan AffinityWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>Opening hours by site; a site without hours is always open.</summary>
    public Dictionary<string, BusinessHours> Hours { get; set; } = [];

    /// <summary>Default for queues: refuse new chats while no agent of the queue is available, instead of queueing forever.</summary>
    public bool OfflineWhenNoAgents { get; set; } = true;

    /// <summary>Account managers by site, then verified customer id: their chats wait for this agent first.</summary>
    public Dictionary<string, Dictionary<string, string>> AccountManagers { get; set; } = [];

    public string? AccountManagerOf(string site, string customerId) =>
        AccountManagers.TryGetValue(site, out var managers) && managers.TryGetValue(customerId, out var agent) ? agent : null;

    public QueueRouting For(string site, string queue) =>
        Queues.TryGetValue(site, out var queues) && queues.TryGetValue(queue, out var routing) ? routing : new QueueRouting();

    public int PriorityOf(string? tier) => tier is not null && TierPriorities.TryGetValue(tier, out var priority) ? priority : 0;
}
