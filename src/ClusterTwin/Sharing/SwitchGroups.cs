using System.Collections.Immutable;
using ClusterTwin.Hardware;

namespace ClusterTwin.Sharing;

/// <summary>
/// A cluster's systems in its fabric's switch groups: tier <c>i</c>'s groups each hold <see cref="SystemsPerGroup"/>
/// consecutive systems (the endpoints under one of its switch groups over the chips per system, nested in the tier
/// above; at least one system, where a system has more chips than a leaf has ports). The systems are numbered in the
/// fabric's order, leaf by leaf.
/// </summary>
public sealed class SwitchGroups
{
    private readonly Cluster cluster;

    /// <summary>The switch groups of <paramref name="cluster"/>'s fabric.</summary>
    public SwitchGroups(Cluster cluster)
    {
        this.cluster = cluster;
        var tiers = cluster.Fabric.Tiers.Length;
        var perGroup = new int[tiers];
        long chips = cluster.System.Chips.Value;
        for (var tier = 0; tier < tiers; tier++)
        {
            var fits = Math.Max(1, cluster.Fabric.EndpointsUnderTier(tier) / chips);
            var below = tier == 0 ? 1 : perGroup[tier - 1];
            // Nested: a group of a tier holds whole groups of the tier below.
            perGroup[tier] = (int)Math.Min(int.MaxValue / 2, Math.Max(below, fits / below * below));
        }

        SystemsPerGroup = ImmutableArray.Create(perGroup);
    }

    /// <summary>Systems under one switch group of each tier, from the leaf up.</summary>
    public ImmutableArray<int> SystemsPerGroup { get; }

    /// <summary>Scale-out tiers.</summary>
    public int Tiers => SystemsPerGroup.Length;

    /// <summary>The tiers whose groups have uplinks, all but the top: those jobs' traffic can meet in.</summary>
    public int TiersBelowTop => Math.Max(0, Tiers - 1);

    /// <summary>Chips per system.</summary>
    public int ChipsPerSystem => cluster.System.Chips.Value;

    /// <summary>The tier-<paramref name="tier"/> group that holds system <paramref name="system"/>.</summary>
    public int GroupOf(int system, int tier) => system / SystemsPerGroup[tier];

    /// <summary>
    /// The systems in the order jobs take them under <paramref name="policy"/>: in the fabric's order (packed), round
    /// the groups of the lowest tier that hold more than one system (spread: the leaves, or where a system fills its
    /// leaf, the spines), or shuffled with <paramref name="seed"/> (random).
    /// </summary>
    public ImmutableArray<int> DealingOrder(PlacementPolicy policy, int seed)
    {
        var count = cluster.SystemCount;
        var order = new int[count];
        for (var system = 0; system < count; system++)
        {
            order[system] = system;
        }

        switch (policy)
        {
            case PlacementPolicy.Packed:
                break;
            case PlacementPolicy.Spread:
                var perGroup = SystemsPerGroup.FirstOrDefault(systems => systems > 1, count);
                var groupCount = ((count - 1) / perGroup) + 1;
                var next = 0;
                for (var place = 0; place < perGroup; place++)
                {
                    for (var group = 0; group < groupCount; group++)
                    {
                        var system = (group * perGroup) + place;
                        if (system < count)
                        {
                            order[next++] = system;
                        }
                    }
                }

                break;
            case PlacementPolicy.Random:
                var random = new Random(seed);
                for (var last = count - 1; last > 0; last--)
                {
                    var pick = random.Next(last + 1);
                    (order[last], order[pick]) = (order[pick], order[last]);
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(policy), policy, "an unknown placement policy");
        }

        return ImmutableArray.Create(order);
    }
}
