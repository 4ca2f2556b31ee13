using Orleans.Concurrency;

namespace SupportGrid.GrainInterfaces;

/// <summary>
/// A verified customer of one site across sessions: who served them last, for affinity routing.
/// Key: <c>{site}/{customerId}</c>. Only ids the site has signed ever reach this grain.
/// </summary>
[Alias("sg.ICustomerProfileGrain")]
public interface ICustomerProfileGrain : IGrainWithStringKey
{
    /// <summary>The agent who last accepted this customer, if any.</summary>
    [Alias("GetLastAgent")]
    Task<string?> GetLastAgentAsync();

    /// <summary>Called when an agent accepts this customer.</summary>
    [OneWay, Alias("SetLastAgent")]
    Task SetLastAgentAsync(string agentId);
}
