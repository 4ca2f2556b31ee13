using SupportGrid.GrainInterfaces;

namespace SupportGrid.Grains.Channel;

/// <summary>
/// One join code (see <see cref="IJoinCodeGrain"/>). The code is its key, so a customer's join goes straight to it with no
/// directory in between; the state is small and is cleared once the code is found expired.
/// </summary>
public sealed class JoinCodeGrain(
    [PersistentState("joinCode", GrainStorage.Name)] IPersistentState<JoinCodeState> state,
    TimeProvider time) : Grain, IJoinCodeGrain
{
    public async Task<bool> RegisterAsync(JoinCodeTarget target, DateTimeOffset expiresAt)
    {
        if (state.State.Target is { } existing && existing.ChannelId != target.ChannelId && state.State.ExpiresAt > time.GetUtcNow())
            return false;
        state.State.Target = target;
        state.State.ExpiresAt = expiresAt;
        await state.WriteStateAsync();
        return true;
    }

    public async Task<JoinCodeTarget> ResolveAsync()
    {
        if (state.State.Target is not { } target)
            throw new SupportGridException(ErrorCodes.InvalidCode, "This join code is not known. Check it with the agent who gave it to you.");
        var now = time.GetUtcNow();
        if (state.State.ExpiresAt <= now)
        {
            if (now - state.State.ExpiresAt > TimeSpan.FromDays(1))
                await state.ClearStateAsync(); // long dead: stop storing it (it then reads as unknown)
            throw new SupportGridException(ErrorCodes.InvalidCode, "This join code has expired. Ask the agent for a new one.");
        }
        return target;
    }
}
