namespace SupportGrid.Bench;

/// <summary>One server the tool measures: SupportGrid itself or a baseline, its address and (for RSS) its process id.</summary>
public sealed record Target(string Name, Uri Url, int? Pid)
{
    public const string SupportGrid = "supportgrid";
    public const string Raw = "signalr-raw";
    public const string SocketIo = "socketio";

    /// <summary>SupportGrid again, with issue 8's attackers beside the measured chats (<c>chat --attack</c>).</summary>
    public const string SupportGridAttacked = "supportgrid-attacked";
}
