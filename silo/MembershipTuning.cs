using Orleans.Configuration;

namespace SupportGrid.Silo;

/// <summary>
/// Failure detection in cluster mode: how soon a silo that died without saying so (SIGKILL, a lost node) is declared dead,
/// after which its grains activate again elsewhere. See docs/operations.md for the measurements behind these values.
/// Any <see cref="ClusterMembershipOptions"/> property may be overridden under <c>SupportGrid:Cluster:Membership</c>.
/// </summary>
public static class MembershipTuning
{
    public const string Section = "SupportGrid:Cluster:Membership";

    /// <summary>Probe every 2 s (Orleans: 5 s) and suspect after 3 missed probes in a row, so a dead silo is suspected after
    /// ~6 s instead of ~15 s. A healthy silo stalled by a long GC pause must miss three probes in a row (6 s), and with
    /// three or more silos two of them must vote, before it is evicted; indirect probes (through another silo) and the
    /// longer probe timeout of a silo that sees itself degraded stay on, so a slow network path alone does not evict.</summary>
    public static void Apply(ClusterMembershipOptions o)
    {
        o.ProbeTimeout = TimeSpan.FromSeconds(2);
        o.NumMissedProbesLimit = 3;
        o.EnableIndirectProbes = true;
        o.ExtendProbeTimeoutDuringDegradation = true;
    }
}
