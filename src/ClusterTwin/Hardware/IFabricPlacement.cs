using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>
/// Where one job's systems sit on a scale-out fabric it shares with other jobs (<see cref="Sharing.JobFootprint"/>): which
/// tiers its groups' traffic climbs to. The job's ranks fill its systems in order, a system before the next.
/// </summary>
public interface IFabricPlacement
{
    /// <summary>
    /// The highest tier between the systems of any two members of any group of <paramref name="size"/> ranks,
    /// <paramref name="stride"/> apart in the job's rank order (0: the leaf). Asked only of groups that span systems.
    /// </summary>
    int HighestTier(int size, long stride);

    /// <summary>
    /// The highest tier between the systems of any two neighbouring members (a pipeline's consecutive stages) of any
    /// group of <paramref name="size"/> ranks, <paramref name="stride"/> apart. Asked only of groups that span systems.
    /// </summary>
    int HighestNeighbourTier(int size, long stride);

    /// <summary>
    /// Of the traffic between systems of the groups of <paramref name="size"/> ranks, <paramref name="stride"/> apart,
    /// exchanging as <paramref name="traffic"/> says, the share whose two systems first meet under each tier (index 0:
    /// the leaf): the pairs of members in different systems, each counted once, by the lowest tier whose switch group
    /// holds both. For <see cref="GroupTraffic.Neighbours"/>, shares of all the neighbouring pairs, those within a
    /// system included (a pipeline's every send counts, not only those that leave). All zero where no pair leaves its system.
    /// </summary>
    ImmutableArray<double> TrafficShares(int size, long stride, GroupTraffic traffic);
}
