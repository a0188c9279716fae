using System.Collections.Concurrent;
using System.Collections.Immutable;
using ClusterTwin.Hardware;

namespace ClusterTwin.Sharing;

/// <summary>
/// Where one job's systems sit in the fabric's switch groups, and so which tier each of its collectives climbs to:
/// for a group of ranks, the highest tier between the systems of any two of its members, over every such group of the
/// job (a collective waits for its slowest member); for a pipeline, between any two neighbouring stages. A job on
/// consecutive systems from a group's start crosses what the analytical engine's span rule says for its groups; one
/// dealt round the leaves may cross the spine with a group of two systems.
/// </summary>
public sealed class JobFootprint : IFabricPlacement
{
    private readonly SwitchGroups groups;
    private readonly ConcurrentDictionary<(int Size, long Stride, bool Neighbours), int> highestTiers = new();
    private readonly ConcurrentDictionary<(int Size, long Stride, GroupTraffic Traffic), ImmutableArray<double>> trafficShares = new();

    private JobFootprint(ImmutableArray<int> systems, SwitchGroups groups, ImmutableArray<ImmutableSortedDictionary<int, int>> systemsByGroup)
    {
        Systems = systems;
        this.groups = groups;
        SystemsByGroup = systemsByGroup;
    }

    /// <summary>The job's systems, in its rank order (ranks fill a system before the next).</summary>
    public ImmutableArray<int> Systems { get; }

    /// <summary>For each tier, from the leaf up, the job's systems in each group that holds any, by group.</summary>
    public ImmutableArray<ImmutableSortedDictionary<int, int>> SystemsByGroup { get; }

    /// <summary>Places a job on <paramref name="systems"/> of <paramref name="groups"/>.</summary>
    public static JobFootprint Of(ImmutableArray<int> systems, SwitchGroups groups)
    {
        ArgumentNullException.ThrowIfNull(groups);
        var byGroup = new ImmutableSortedDictionary<int, int>[groups.Tiers];
        for (var tier = 0; tier < groups.Tiers; tier++)
        {
            var counts = new SortedDictionary<int, int>();
            foreach (var system in systems)
            {
                var group = groups.GroupOf(system, tier);
                counts[group] = counts.GetValueOrDefault(group) + 1;
            }

            byGroup[tier] = counts.ToImmutableSortedDictionary();
        }

        return new JobFootprint(systems, groups, ImmutableArray.Create(byGroup));
    }

    /// <summary>Whether the job's systems lie in more than one group of <paramref name="tier"/>: only then does its traffic climb above it.</summary>
    public bool Spans(int tier) => SystemsByGroup[tier].Count > 1;

    /// <inheritdoc />
    public int HighestTier(int size, long stride) => highestTiers.GetOrAdd((size, stride, false), key => Climb(key.Size, key.Stride, neighboursOnly: false));

    /// <inheritdoc />
    public int HighestNeighbourTier(int size, long stride) => highestTiers.GetOrAdd((size, stride, true), key => Climb(key.Size, key.Stride, neighboursOnly: true));

    // Every group of the dimension, by its members' systems: against its first member, or each member against the one
    // before (neighbours).
    private int Climb(int size, long stride, bool neighboursOnly)
    {
        var highest = 0;
        ForEachGroup(size, stride, members =>
        {
            for (var member = 1; member < size; member++)
            {
                highest = Math.Max(highest, Between(members[neighboursOnly ? member - 1 : 0], members[member]));
            }

            return highest < groups.Tiers - 1;
        });
        return highest;
    }

    /// <summary>
    /// Calls <paramref name="visit"/> with the systems of each group's members, in order, until it answers false (the
    /// array is reused from group to group). Where the stride is a whole number of systems, the ranks of one system's
    /// worth of offsets have their members in the same systems: the first stands for them.
    /// </summary>
    private void ForEachGroup(int size, long stride, Func<int[], bool> visit)
    {
        long chipsPerSystem = groups.ChipsPerSystem;
        var ranks = Systems.Length * chipsPerSystem;
        var step = stride % chipsPerSystem == 0 ? chipsPerSystem : 1;
        var members = new int[size];
        for (long first = 0; first < ranks; first += step)
        {
            // A group's first rank: its position in the dimension is 0.
            if (first / stride % size != 0 || first + ((size - 1) * stride) >= ranks)
            {
                continue;
            }

            for (var member = 0; member < size; member++)
            {
                members[member] = Systems[(int)((first + (member * stride)) / chipsPerSystem)];
            }

            if (!visit(members))
            {
                return;
            }
        }
    }

    /// <inheritdoc />
    public ImmutableArray<double> TrafficShares(int size, long stride, GroupTraffic traffic) =>
        trafficShares.GetOrAdd((size, stride, traffic), key => Shares(key.Size, key.Stride, key.Traffic));

    // Every group's pairs of members in different systems, by the tier their systems meet under.
    private ImmutableArray<double> Shares(int size, long stride, GroupTraffic traffic)
    {
        var counts = new double[groups.Tiers];
        var neighbourPairs = 0.0;
        ForEachGroup(size, stride, members =>
        {
            if (traffic == GroupTraffic.AllToAll)
            {
                for (var one = 0; one < size; one++)
                {
                    for (var other = one + 1; other < size; other++)
                    {
                        Count(counts, members[one], members[other]);
                    }
                }

                return true;
            }

            for (var member = 1; member < size; member++)
            {
                Count(counts, members[member - 1], members[member]);
            }

            neighbourPairs += size - 1;
            if (traffic == GroupTraffic.Ring && size > 2)
            {
                Count(counts, members[size - 1], members[0]);
            }

            return true;
        });

        // A ring's and an all-to-all's bytes across systems are already their cross-system share (LinkTrafficParts):
        // spread over the pairs that cross. A pipeline's are every send: over all its pairs, the crossing ones'.
        var total = traffic == GroupTraffic.Neighbours ? neighbourPairs : counts.Sum();
        return [.. counts.Select(count => total > 0 ? count / total : 0)];
    }

    private void Count(double[] counts, int first, int second)
    {
        if (first != second)
        {
            counts[Between(first, second)]++;
        }
    }

    // The lowest tier whose group holds both systems.
    private int Between(int first, int second)
    {
        for (var tier = 0; tier < groups.Tiers; tier++)
        {
            if (groups.GroupOf(first, tier) == groups.GroupOf(second, tier))
            {
                return tier;
            }
        }

        return groups.Tiers - 1;
    }
}
