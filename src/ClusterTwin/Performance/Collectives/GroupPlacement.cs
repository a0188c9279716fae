using ClusterTwin.Hardware;

namespace ClusterTwin.Performance.Collectives;

/// <summary>Places a group of ranks, <c>Stride</c> apart in rank order, onto systems and fabric tiers.</summary>
public static class GroupPlacement
{
    /// <summary>
    /// Describes the group of <paramref name="size"/> members spaced <paramref name="stride"/> ranks apart.
    /// Ranks fill a system before the next one, so a stride below the system size keeps members together.
    /// </summary>
    public static CommunicationGroup Place(Cluster cluster, int size, long stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        long chipsPerSystem = cluster.System.Chips.Value;
        int membersPerSystem;
        long systemStride;
        if (stride >= chipsPerSystem)
        {
            membersPerSystem = 1;
            systemStride = (stride + chipsPerSystem - 1) / chipsPerSystem;
        }
        else
        {
            membersPerSystem = (int)Math.Max(1, Math.Min(size, chipsPerSystem / stride));
            systemStride = 1;
        }

        var systems = (size + membersPerSystem - 1) / membersPerSystem;
        var tier = -1;
        if (systems > 1)
        {
            var spanChips = (((systems - 1) * systemStride) + 1) * chipsPerSystem;
            tier = cluster.Fabric.Tiers.Length - 1;
            for (var index = 0; index < cluster.Fabric.Tiers.Length; index++)
            {
                if (cluster.Fabric.EndpointsUnderTier(index) >= spanChips)
                {
                    tier = index;
                    break;
                }
            }
        }

        return new CommunicationGroup(size, stride, membersPerSystem, systems, tier);
    }
}
