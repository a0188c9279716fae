using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Performance.Collectives;

/// <summary>
/// Time of a collective on a cluster, by an algorithm that fits each level of the hardware: ring or tree on the
/// scale-out fabric, a ring at the full per-chip bandwidth on a switched scale-up domain, dimension-ordered
/// bidirectional rings on a torus, direct links on a full mesh. A group that spans systems runs hierarchically:
/// reduce-scatter inside each system, the collective across systems on every member's own network adapter in
/// parallel, then all-gather inside each system. A group that straddles systems unevenly runs as one flat
/// collective over the network (an upper bound).
/// </summary>
/// <remarks>
/// Each algorithm is an alpha-beta cost (Thakur, Rabenseifner and Gropp 2005): steps times a per-step latency plus
/// bytes over the bandwidth one chip can send. Where two algorithms apply, the faster is taken, as NCCL's tuner does.
/// </remarks>
public sealed class CollectiveCost
{
    private readonly Cluster cluster;
    private readonly EfficiencyCurve scaleUpEfficiency;
    private readonly Bandwidth scaleUpPerDirection;
    private readonly (Duration Latency, Bandwidth Bandwidth)[] scaleOutPaths;

    /// <summary>Creates the cost model of one cluster.</summary>
    public CollectiveCost(Cluster cluster, ChipEfficiency efficiency)
    {
        this.cluster = cluster;
        scaleUpEfficiency = efficiency.ScaleUpCollective;
        scaleUpPerDirection = cluster.System.ScaleUpBandwidth.Value.PerDirection;
        scaleOutPaths = ScaleOutPaths(cluster);
    }

    /// <summary>
    /// For each highest tier a transfer may cross: the path latency (up through every tier below it and down again)
    /// and the bandwidth a chip gets, its share of the adapters times the fabric's efficiency over the worst
    /// oversubscription below that tier. Computed once per cluster: collectives are costed many times.
    /// </summary>
    private static (Duration Latency, Bandwidth Bandwidth)[] ScaleOutPaths(Cluster cluster)
    {
        var fabric = cluster.Fabric;
        var paths = new (Duration, Bandwidth)[fabric.Tiers.Length];
        if (cluster.System.ScaleOutBandwidth?.Value is not { } adapter)
        {
            return paths;
        }

        for (var tier = 0; tier < fabric.Tiers.Length; tier++)
        {
            var oversubscription = 1.0;
            var latency = Duration.Zero;
            for (var index = 0; index <= tier; index++)
            {
                latency += fabric.Tiers[index].Latency.Value * (index == tier ? 1 : 2);
                if (index < tier)
                {
                    oversubscription = Math.Max(oversubscription, fabric.Tiers[index].Oversubscription);
                }
            }

            paths[tier] = (latency, adapter * fabric.Efficiency.Value / oversubscription);
        }

        return paths;
    }

    /// <summary>Time of <paramref name="kind"/> over <paramref name="group"/> on a buffer of <paramref name="size"/> per member.</summary>
    /// <param name="kind">The collective.</param>
    /// <param name="group">The placed group.</param>
    /// <param name="size">Full buffer per member: the reduced buffer for all-reduce, the unsharded buffer for reduce-scatter and all-gather, the message for point-to-point.</param>
    public Duration Time(CollectiveKind kind, CommunicationGroup group, Bytes size)
    {
        if (group.Size <= 1 || size.Count <= 0)
        {
            return Duration.Zero;
        }

        if (kind == CollectiveKind.PointToPoint)
        {
            return group.CrossesFabric ? ScaleOut(kind, 2, size, group.FabricTier) : ScaleUp(kind, 2, 1, size);
        }

        if (kind == CollectiveKind.AllToAll)
        {
            return AllToAll(group, size);
        }

        if (!group.Aligned)
        {
            return ScaleOut(kind, group.Size, size, group.FabricTier);
        }

        var local = group.MembersPerSystem;
        var remote = group.SystemsSpanned;
        if (remote <= 1)
        {
            return ScaleUp(kind, local, group.Stride, size);
        }

        if (local <= 1)
        {
            return ScaleOut(kind, remote, size, group.FabricTier);
        }

        var shard = size / local;
        return kind switch
        {
            CollectiveKind.AllReduce => ScaleUp(CollectiveKind.ReduceScatter, local, group.Stride, size) +
                                        ScaleOut(CollectiveKind.AllReduce, remote, shard, group.FabricTier) +
                                        ScaleUp(CollectiveKind.AllGather, local, group.Stride, size),
            _ => ScaleUp(kind, local, group.Stride, size) + ScaleOut(kind, remote, shard, group.FabricTier),
        };
    }

    /// <summary>Bandwidth one chip sends at inside the scale-up domain for a group of <paramref name="members"/>, <paramref name="stride"/> apart.</summary>
    public Bandwidth ScaleUpAlgorithmBandwidth(int members, long stride)
    {
        var topology = cluster.System.Topology;
        return topology.Kind switch
        {
            ScaleUpTopologyKind.Switched => scaleUpPerDirection,
            ScaleUpTopologyKind.FullMesh => scaleUpPerDirection / Math.Max(1, topology.Chips - 1) * (members - 1),
            ScaleUpTopologyKind.Torus => TorusBandwidth(topology, TorusExtent(topology, members, stride).Dimensions),
            _ => throw new InvalidOperationException($"unknown topology {topology.Kind}"),
        };
    }

    /// <summary>
    /// An all-to-all in which each member sends <c>1/n</c> of <paramref name="size"/> to every member. Inside a system
    /// it runs on the scale-up topology; across systems the slices for other systems leave on each member's own
    /// network adapter while the local ones cross the scale-up domain, both at once (NCCL's and DeepEP's
    /// hierarchical all-to-all), so the slower of the two sets the time. A group that straddles systems unevenly runs
    /// flat over the network.
    /// </summary>
    private Duration AllToAll(CommunicationGroup group, Bytes size)
    {
        var local = group.Aligned ? group.MembersPerSystem : 1;
        return AllToAll(group, size, size * ((group.Size - local) / (double)group.Size));
    }

    /// <summary>
    /// An all-to-all in which each member exchanges <paramref name="buffer"/> (the slices for every member, its own
    /// included) and, of it, sends <paramref name="network"/> to other systems: the plain share of the buffer, or less
    /// where a sender merges the copies bound for one system and that system's members forward them (a deduplicated
    /// expert dispatch). Across systems the network bytes leave on the adapter as one send each way per step while the
    /// slices for members of the same system cross the scale-up domain; the slower of the two sets the time.
    /// </summary>
    public Duration AllToAll(CommunicationGroup group, Bytes buffer, Bytes network)
    {
        var members = group.Size;
        if (members <= 1 || buffer.Count <= 0)
        {
            return Duration.Zero;
        }

        if (!group.CrossesFabric)
        {
            return ScaleUpAllToAll(members, group.Stride, buffer);
        }

        var local = group.Aligned ? group.MembersPerSystem : 1;
        var across = ScaleOut(CollectiveKind.PointToPoint, 2, network, group.FabricTier);
        return local <= 1 ? across : Duration.Max(ScaleUpAllToAll(local, group.Stride, buffer * (local / (double)members)), across);
    }

    /// <summary>
    /// An all-to-all inside the scale-up domain. On a switch or a full mesh every slice goes straight to its
    /// destination at the algorithm bandwidth (Thakur et al. 2005, the pairwise-exchange bound). On a torus it is also
    /// bounded by the bisection: with wraparound, a cut across the largest dimension (extent <c>D</c>) of a group of
    /// <c>n</c> members crosses <c>2n/D</c> links, and a quarter of all the data, <c>n V / 4</c> each way, must cross it,
    /// so the time is at least <c>V D / (8 B)</c> for one link direction's bandwidth <c>B</c>.
    /// </summary>
    private Duration ScaleUpAllToAll(int members, long stride, Bytes size)
    {
        if (members <= 1)
        {
            return Duration.Zero;
        }

        var topology = cluster.System.Topology;
        var efficiency = scaleUpEfficiency.At(size.Count);
        var outgoing = size * ((members - 1) / (double)members);
        var latency = cluster.System.ScaleUpLatency.Value * ScaleUpHops(members, stride);
        if (topology.Kind != ScaleUpTopologyKind.Torus)
        {
            return latency + (outgoing / (ScaleUpAlgorithmBandwidth(members, stride) * efficiency));
        }

        var extent = TorusExtent(topology, members, stride);
        var injection = outgoing / (TorusBandwidth(topology, extent.Dimensions) * efficiency);
        var link = scaleUpPerDirection / Math.Max(1, topology.TorusLinkDirections);
        var bisection = size * (extent.Largest / 8.0) / (link * efficiency);
        return (cluster.System.ScaleUpLatency.Value * extent.Steps) + Duration.Max(injection, bisection);
    }

    /// <summary>Two link directions per torus dimension the group spans, of the chip's evenly split links.</summary>
    private Bandwidth TorusBandwidth(ScaleUpTopology topology, int dimensions) =>
        scaleUpPerDirection / Math.Max(1, topology.TorusLinkDirections) * (2 * Math.Max(1, dimensions));

    private Duration ScaleUp(CollectiveKind kind, int members, long stride, Bytes size)
    {
        if (members <= 1)
        {
            return Duration.Zero;
        }

        var topology = cluster.System.Topology;
        var latency = cluster.System.ScaleUpLatency.Value * ScaleUpHops(members, stride);
        if (topology.Kind != ScaleUpTopologyKind.Torus)
        {
            return Ring(kind, members, size, ScaleUpAlgorithmBandwidth(members, stride) * scaleUpEfficiency.At(size.Count), latency, members - 1);
        }

        // On a torus the phases run dimension by dimension: a ring of n_i members takes n_i - 1 steps, not n - 1.
        var extent = TorusExtent(topology, members, stride);
        return Ring(kind, members, size, TorusBandwidth(topology, extent.Dimensions) * scaleUpEfficiency.At(size.Count), latency, extent.Steps);
    }

    private Duration ScaleOut(CollectiveKind kind, int members, Bytes size, int tier)
    {
        if (cluster.System.ScaleOutBandwidth is null)
        {
            throw new InvalidOperationException($"{cluster.System.Id} has no scale-out bandwidth; the scenario loader rejects replicating it");
        }

        var (latency, bandwidth) = scaleOutPaths[tier];
        if (kind == CollectiveKind.PointToPoint)
        {
            return latency + (size / bandwidth);
        }

        var ring = Ring(kind, members, size, bandwidth, latency, members - 1);
        var logSteps = Math.Ceiling(Math.Log2(members));
        var tree = kind == CollectiveKind.AllReduce
            ? (latency * (2 * logSteps)) + (size * 2 / bandwidth)
            : (latency * logSteps) + (size / bandwidth);
        return Duration.Min(ring, tree);
    }

    /// <summary>Bandwidth-optimal ring phases: reduce-scatter and all-gather move (n-1)/n of the buffer in <paramref name="phaseSteps"/> steps; all-reduce is both.</summary>
    private static Duration Ring(CollectiveKind kind, int members, Bytes size, Bandwidth bandwidth, Duration latency, int phaseSteps)
    {
        var fraction = (members - 1) / (double)members;
        return kind switch
        {
            CollectiveKind.AllReduce => (latency * (2 * phaseSteps)) + (size * (2 * fraction) / bandwidth),
            CollectiveKind.ReduceScatter or CollectiveKind.AllGather => (latency * phaseSteps) + (size * fraction / bandwidth),
            CollectiveKind.PointToPoint => latency + (size / bandwidth),
            _ => throw new InvalidOperationException($"unknown collective {kind}"),
        };
    }

    /// <summary>Switch levels crossed: a group that leaves the innermost switch level pays one more hop per level.</summary>
    private double ScaleUpHops(int members, long stride)
    {
        var topology = cluster.System.Topology;
        if (topology.Kind != ScaleUpTopologyKind.Switched)
        {
            return 1;
        }

        var span = members * stride;
        long levelSize = 1;
        var hops = 0;
        foreach (var size in topology.Shape)
        {
            hops++;
            levelSize *= size;
            if (levelSize >= span)
            {
                break;
            }
        }

        return hops;
    }

    /// <summary>
    /// The torus dimensions along which the group's members differ (ranks fill dimension 0 first), and the ring
    /// steps of one dimension-ordered phase: the sum over those dimensions of (members along it - 1).
    /// </summary>
    private static (int Dimensions, int Steps, int Largest) TorusExtent(ScaleUpTopology topology, int members, long stride)
    {
        var dimensions = 0;
        var steps = 0;
        var largest = 1;
        long place = 1;
        Span<bool> seen = stackalloc bool[topology.Shape.Max()];
        foreach (var size in topology.Shape)
        {
            seen[..size].Clear();
            var distinct = 0;
            for (var member = 0; member < members && distinct < size; member++)
            {
                var digit = (int)(member * stride / place % size);
                if (!seen[digit])
                {
                    seen[digit] = true;
                    distinct++;
                }
            }

            if (distinct > 1)
            {
                dimensions++;
                steps += distinct - 1;
                largest = Math.Max(largest, distinct);
            }

            place *= size;
        }

        return (dimensions, steps, largest);
    }
}
