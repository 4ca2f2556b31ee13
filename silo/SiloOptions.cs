namespace SupportGrid.Silo;

/// <summary>How a silo joins its cluster. Bound from the <c>SupportGrid:Silo</c> section.</summary>
public sealed class SiloOptions
{
    public const string Section = "SupportGrid:Silo";

    /// <summary>Silo-to-silo port.</summary>
    public int SiloPort { get; set; } = 11111;

    /// <summary>Port external clients (gateways in cluster mode) connect to.</summary>
    public int GatewayPort { get; set; } = 30000;

    /// <summary>Cluster mode outside Kubernetes: the address other silos and gateways reach this silo at. Empty: the
    /// host's own address (from its host name). In Kubernetes the pod IP is used.</summary>
    public string? AdvertisedIPAddress { get; set; }

    /// <summary>Cluster mode: listen on every interface rather than only on the advertised address.</summary>
    public bool ListenOnAnyHostAddress { get; set; }

    /// <summary>How long a stopping silo may take to hand over its grains and leave the cluster before the host gives up.
    /// Keep Kubernetes' <c>terminationGracePeriodSeconds</c> longer than this.</summary>
    public TimeSpan ShutdownTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How soon a stream's pulling agent reads again after a read found nothing (its reads are long polls, so this
    /// is not the latency of a broadcast; it matters only after an idle long poll or while a new stream registers).</summary>
    public TimeSpan StreamPollPeriod { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>How long a pulling agent retries a handshake or a delivery to one gateway before giving that event up
    /// (Orleans' default is a minute). Short, because a dead gateway's subscriptions hold a moved stream up for this long;
    /// a gateway that misses an event fetches it when the next one shows the gap.</summary>
    public TimeSpan StreamDeliveryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How long a pulling agent keeps a stream it has seen no event on in its table of streams (Orleans' default:
    /// 30 minutes). The agent walks that whole table on every read of its queue, and its reads are long polls that return
    /// with each event, so every event costs in proportion to the chats seen in this period. A stream dropped from the
    /// table registers again on its next event: a pub-sub write (Redis in a cluster) and a handshake with each gateway
    /// that follows it, during which the agent does not read its queue; a dead gateway's handshake can hold that up to
    /// <see cref="StreamDeliveryTimeout"/>. So not shorter than most chats' quiet spells.</summary>
    public TimeSpan StreamInactivityPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Number of stream queues the channel streams are spread over (each read by one pulling agent, balanced over the silos).</summary>
    public int StreamQueues { get; set; } = 8;
}
