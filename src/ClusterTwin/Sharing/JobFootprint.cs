using System.Collections.Concurrent;
using System.Collections.Immutable;
using ClusterTwin.Hardware;

namespace ClusterTwin.Sharing;

/// <summary>
/// Where one job's systems sit in the fabric's switch groups, and so which tier each of its collectives climbs to:
/// for a group of ranks, the highest tier between the systems of any two of its members, over every such group of the
/// job (a collective waits for its slowest member). A job on consecutive systems from a group's start crosses what the
/// analytical engine's span rule says; one dealt round the leaves may cross the spine with a group of two systems.
/// </summary>
public sealed class JobFootprint : IFabricPlacement
{
    private readonly SwitchGroups groups;
    private readonly ConcurrentDictionary<(int Size, long Stride), int> tiers = new();

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
    public int HighestTier(int size, long stride) => tiers.GetOrAdd((size, stride), key => Climb(key.Size, key.Stride));

    // Every group of the dimension, by its members' systems; a pair, every pair of neighbours. Each system's ranks are
    // alike, so the ranks of the first system's worth of offsets stand for the rest where the stride is a whole number of systems.
    private int Climb(int size, long stride)
    {
        long chipsPerSystem = groups.ChipsPerSystem;
        var ranks = Systems.Length * chipsPerSystem;
        var highest = 0;
        var step = stride % chipsPerSystem == 0 ? chipsPerSystem : 1;
        var neighbours = size == 2;
        for (long first = 0; first < ranks && highest < groups.Tiers - 1; first += step)
        {
            // A group's first rank: its position in the dimension is 0 (every rank, for neighbours).
            if (!neighbours && first / stride % size != 0)
            {
                continue;
            }

            var system = Systems[(int)(first / chipsPerSystem)];
            var members = neighbours ? 2 : size;
            for (var member = 1; member < members; member++)
            {
                var rank = first + (member * stride);
                if (rank >= ranks)
                {
                    break;
                }

                highest = Math.Max(highest, Between(system, Systems[(int)(rank / chipsPerSystem)]));
            }
        }

        return highest;
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
