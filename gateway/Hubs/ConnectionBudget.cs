using Microsoft.AspNetCore.SignalR;

namespace SupportGrid.Gateway.Hubs;

/// <summary>
/// What one connection may send per second of one kind (page activity, the agent's pointer, live page view bytes), in
/// one-second windows kept in the connection's items. A call over budget is refused with a <c>throttled</c> hub error by
/// the hub (never dropped in silence), and takes nothing from the budget.
/// </summary>
public static class ConnectionBudget
{
    private sealed class Window
    {
        public long Start;
        public long Used;
        public long Refused;
    }

    /// <summary>Takes <paramref name="amount"/> from this second's <paramref name="limit"/>. False if it does not fit;
    /// <paramref name="firstRefusal"/> is then true for the first refusal of the window (to tell someone once).</summary>
    public static bool TryTake(HubCallerContext context, string key, long limit, long amount, out bool firstRefusal)
    {
        var window = context.Items.TryGetValue(key, out var value) && value is Window w ? w : (Window)(context.Items[key] = new Window());
        lock (window)
        {
            var now = Environment.TickCount64;
            if (now - window.Start >= 1000)
            {
                window.Start = now;
                window.Used = 0;
                window.Refused = 0;
            }
            if (window.Used + amount <= limit)
            {
                window.Used += amount;
                firstRefusal = false;
                return true;
            }
            firstRefusal = ++window.Refused == 1;
            return false;
        }
    }
}
