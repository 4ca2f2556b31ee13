using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.CustomerProfile;

public sealed class CustomerProfileGrain(
    [PersistentState("customerProfile", GrainStorage.Name)] IPersistentState<CustomerProfileState> state,
    TimeProvider time) : Grain, ICustomerProfileGrain
{
    public Task<string?> GetLastAgentAsync() => Task.FromResult(state.State.LastAgentId);

    public Task SetLastAgentAsync(string agentId)
    {
        state.State.LastAgentId = agentId;
        state.State.LastServedAt = time.GetUtcNow();
        return state.WriteStateAsync();
    }

    public static string KeyFor(string site, string customerId) => $"{site}/{customerId}";
}
