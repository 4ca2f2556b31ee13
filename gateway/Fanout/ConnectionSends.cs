using Microsoft.AspNetCore.SignalR;

namespace SupportGrid.Gateway.Fanout;

/// <summary>
/// Sends to a list of connections one by one. SignalR's own <c>Clients.Clients(ids)</c> walks every connection of the hub
/// and checks each against the list, so its cost grows with everyone connected to this gateway, not with the list: with
/// thousands of customers connected, every chat message paid for all of them. A send to one connection is a lookup.
/// </summary>
public static class ConnectionSends
{
    public static Task EachAsync<T>(this IHubClients<T> clients, IReadOnlyList<string> connectionIds, Func<T, Task> send)
    {
        switch (connectionIds.Count)
        {
            case 0:
                return Task.CompletedTask;
            case 1:
                return send(clients.Client(connectionIds[0]));
            default:
                var sends = new Task[connectionIds.Count];
                for (var i = 0; i < sends.Length; i++)
                    sends[i] = send(clients.Client(connectionIds[i]));
                return Task.WhenAll(sends);
        }
    }
}
