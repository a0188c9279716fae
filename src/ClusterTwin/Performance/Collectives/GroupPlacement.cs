using ClusterTwin.Hardware;

namespace ClusterTwin.Performance.Collectives;

/// <summary>Places a group of ranks, <c>Stride</c> apart in rank order, onto systems and fabric tiers.</summary>
/// <remarks>
/// Every group of a dimension sits alike when the group lies inside one system with a size that divides it, or
/// spans whole systems with the same number of members in each, or has one member per system. Otherwise some
/// groups straddle systems unevenly; those are costed as a flat collective over the network, an upper bound that
/// the result flags (<see cref="CommunicationGroup.Aligned"/> is false).
/// </remarks>
public static class GroupPlacement
{
    /// <summary>Describes the groups of <paramref name="size"/> members spaced <paramref name="stride"/> ranks apart.</summary>
    public static CommunicationGroup Place(Cluster cluster, int size, long stride)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(size, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(stride, 1);
        long chipsPerSystem = cluster.System.Chips.Value;
        var span = stride * size;
        if (size == 1)
        {
            return new CommunicationGroup(1, stride, 1, 1, -1, Aligned: true);
        }

        if (stride >= chipsPerSystem)
        {
            var systemStride = stride / chipsPerSystem;
            var aligned = stride % chipsPerSystem == 0;
            return Across(cluster, size, stride, membersPerSystem: 1, systems: size, systemStride: aligned ? systemStride : systemStride + 1, aligned);
        }

        if (span <= chipsPerSystem && chipsPerSystem % span == 0)
        {
            return new CommunicationGroup(size, stride, size, 1, -1, Aligned: true);
        }

        if (chipsPerSystem % stride == 0 && span % chipsPerSystem == 0)
        {
            var membersPerSystem = (int)(chipsPerSystem / stride);
            return Across(cluster, size, stride, membersPerSystem, size / membersPerSystem, systemStride: 1, aligned: true);
        }

        // Uneven: some groups straddle a system boundary with few members on one side.
        var touched = (int)Math.Min(size, ((span - 1) / chipsPerSystem) + 2);
        return Across(cluster, size, stride, membersPerSystem: 1, systems: touched, systemStride: 1, aligned: false);
    }

    /// <summary>
    /// The pair of neighbouring stages that is hardest to connect, for point-to-point sends along a pipeline group:
    /// inside one system when the whole group is, across the nearest system boundary otherwise.
    /// </summary>
    public static CommunicationGroup PlaceNeighbours(Cluster cluster, int size, long stride)
    {
        var whole = Place(cluster, size, stride);
        if (size == 1 || !whole.CrossesFabric)
        {
            return whole with { Size = Math.Min(size, 2) };
        }

        long chipsPerSystem = cluster.System.Chips.Value;
        var pair = Place(cluster, 2, Math.Max(stride, chipsPerSystem)) with { Aligned = whole.Aligned };
        // On a shared fabric, the worst of the neighbours as the job's systems sit.
        return cluster.Placement is { } placement ? pair with { FabricTier = Clamped(cluster, placement.HighestNeighbourTier(size, stride)) } : pair;
    }

    private static CommunicationGroup Across(Cluster cluster, int size, long stride, int membersPerSystem, int systems, long systemStride, bool aligned)
    {
        return new CommunicationGroup(size, stride, membersPerSystem, systems, HighestTier(cluster, size, stride, systems, systemStride), aligned);
    }

    // Where the job shares the fabric, as its chips sit; else the lowest tier whose switch groups hold the group's span.
    private static int HighestTier(Cluster cluster, int size, long stride, int systems, long systemStride)
    {
        var fabric = cluster.Fabric;
        if (cluster.Placement is { } placement)
        {
            return Clamped(cluster, placement.HighestTier(size, stride));
        }

        var spanChips = (((systems - 1) * systemStride) + 1) * (long)cluster.System.Chips.Value;
        for (var index = 0; index < fabric.Tiers.Length; index++)
        {
            if (fabric.EndpointsUnderTier(index) >= spanChips)
            {
                return index;
            }
        }

        return fabric.Tiers.Length - 1;
    }

    private static int Clamped(Cluster cluster, int tier) => Math.Clamp(tier, 0, Math.Max(0, cluster.Fabric.Tiers.Length - 1));
}
