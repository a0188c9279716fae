using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Performance;

public class CollectiveCostTests
{
    private static readonly ChipEfficiency Perfect = new("test", EfficiencyCurve.Constant(1), EfficiencyCurve.Constant(1), EfficiencyCurve.Constant(1), EfficiencyCurve.Constant(1), "test");

    private static readonly Bytes Buffer = Bytes.Parse("1 GB");

    [Fact]
    public void AllReduce_SwitchedDomainOfEight_MatchesTheRingClosedForm()
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "1 us");
        var group = GroupPlacement.Place(cluster, 8, 1);
        var time = new CollectiveCost(cluster, Perfect).Time(CollectiveKind.AllReduce, group, Buffer);

        // 2 (n-1)/n S / B + 2 (n-1) alpha, with B = 450 GB/s each way.
        var expected = (2.0 * 7 / 8 * 1e9 / 450e9) + (2 * 7 * 1e-6);
        Within.Relative(expected, time.Seconds, 1e-12);
    }

    [Fact]
    public void ReduceScatterPlusAllGather_EqualsAllReduce_OnOneLevel()
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "1 us");
        var costs = new CollectiveCost(cluster, Perfect);
        var group = GroupPlacement.Place(cluster, 8, 1);
        var split = costs.Time(CollectiveKind.ReduceScatter, group, Buffer) + costs.Time(CollectiveKind.AllGather, group, Buffer);
        Within.Relative(costs.Time(CollectiveKind.AllReduce, group, Buffer).Seconds, split.Seconds, 1e-12);
    }

    [Fact]
    public void Torus_RingAlongOneDimension_UsesOnlyThatDimensionsLinks()
    {
        // 1.2 TB/s per chip over 6 link directions of a 4x4x4 torus: a ring of 4 along one dimension gets 2 of them.
        var cluster = Cluster(ScaleUpTopologyKind.Torus, [4, 4, 4], "1200 GB/s", latency: "0 s");
        var costs = new CollectiveCost(cluster, Perfect);
        Within.Relative(2 * 100e9, costs.ScaleUpAlgorithmBandwidth(4, 1).BytesPerSecond, 1e-12);
        Within.Relative(4 * 100e9, costs.ScaleUpAlgorithmBandwidth(16, 1).BytesPerSecond, 1e-12);
        Within.Relative(6 * 100e9, costs.ScaleUpAlgorithmBandwidth(64, 1).BytesPerSecond, 1e-12);
        Within.Relative(2 * 100e9, costs.ScaleUpAlgorithmBandwidth(4, 16).BytesPerSecond, 1e-12);
    }

    [Fact]
    public void Torus_MovesDataNoFasterThanASwitchOfTheSamePerChipBandwidth()
    {
        // Bandwidth terms only: the algorithms differ in their latency steps (rings on the switch, as NCCL runs
        // them; dimension-ordered rings on the torus, as TPU and Neuron collectives do).
        var torus = Cluster(ScaleUpTopologyKind.Torus, [4, 4, 4], "1200 GB/s", latency: "0 s");
        var switched = Cluster(ScaleUpTopologyKind.Switched, [64], "1200 GB/s", latency: "0 s");
        foreach (var members in new[] { 2, 4, 16, 64 })
        {
            var onTorus = new CollectiveCost(torus, Perfect).Time(CollectiveKind.AllReduce, GroupPlacement.Place(torus, members, 1), Buffer);
            var onSwitch = new CollectiveCost(switched, Perfect).Time(CollectiveKind.AllReduce, GroupPlacement.Place(switched, members, 1), Buffer);
            Assert.True(onTorus >= onSwitch, $"{members} members: torus {onTorus} faster than switch {onSwitch}");
        }
    }

    [Fact]
    public void Torus_AllReduceAcrossDimensions_TakesDimensionOrderedSteps()
    {
        // 64 members of a 4x4x4 torus: 2 x (3 + 3 + 3) latency steps, not the 2 x 63 of one ring.
        var cluster = Cluster(ScaleUpTopologyKind.Torus, [4, 4, 4], "1200 GB/s", latency: "1 us");
        var time = new CollectiveCost(cluster, Perfect).Time(CollectiveKind.AllReduce, GroupPlacement.Place(cluster, 64, 1), Buffer);
        var expected = (2.0 * 63 / 64 * 1e9 / 600e9) + (2 * 9 * 1e-6);
        Within.Relative(expected, time.Seconds, 1e-12);
    }

    [Fact]
    public void GroupThatStraddlesSystems_IsNotAligned_AndCostsAtLeastTheNetwork()
    {
        // Groups of 32 on 144-chip systems: the fifth group spans ranks 128 to 159, across two systems.
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [144], "2 TB/s", latency: "0 s", systems: 2);
        var group = GroupPlacement.Place(cluster, 32, 1);
        Assert.False(group.Aligned);
        var time = new CollectiveCost(cluster, Perfect).Time(CollectiveKind.AllReduce, group, Buffer);
        Within.Relative(2.0 * 31 / 32 * 1e9 / 50e9, time.Seconds, 1e-9);
    }

    [Theory]
    [InlineData(8, 1, true)]
    [InlineData(16, 9, true)]
    [InlineData(16, 8, false)]
    [InlineData(18, 8, true)]
    [InlineData(36, 8, true)]
    [InlineData(4, 144, true)]
    [InlineData(5, 200, false)]
    [InlineData(32, 1, false)]
    public void Placement_IsAlignedOnlyWhenEveryGroupSitsAlike(int size, long stride, bool aligned)
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [144], "2 TB/s", latency: "0 s", systems: 1000);
        Assert.Equal(aligned, GroupPlacement.Place(cluster, size, stride).Aligned);
    }

    [Fact]
    public void FullMesh_GroupOfAll_UsesEveryDirectLink()
    {
        var cluster = Cluster(ScaleUpTopologyKind.FullMesh, [8], "1075.2 GB/s", latency: "0 s", direction: LinkDirection.Unidirectional);
        var costs = new CollectiveCost(cluster, Perfect);
        Within.Relative(1075.2e9, costs.ScaleUpAlgorithmBandwidth(8, 1).BytesPerSecond, 1e-12);
        Within.Relative(2 * 153.6e9, costs.ScaleUpAlgorithmBandwidth(3, 1).BytesPerSecond, 1e-12);
    }

    [Fact]
    public void GroupAcrossSystems_IsHierarchical_ScaleUpThenScaleOut()
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "0 s", systems: 4);
        var costs = new CollectiveCost(cluster, Perfect);
        var group = GroupPlacement.Place(cluster, 32, 1);
        Assert.Equal(8, group.MembersPerSystem);
        Assert.Equal(4, group.SystemsSpanned);

        // Reduce-scatter and all-gather inside each system, all-reduce of one eighth across 4 systems at 50 GB/s.
        var inside = 2 * (7.0 / 8 * 1e9 / 450e9);
        var across = 2 * (3.0 / 4) * (1e9 / 8) / 50e9;
        Within.Relative(inside + across, costs.Time(CollectiveKind.AllReduce, group, Buffer).Seconds, 1e-9);
    }

    [Fact]
    public void Placement_StrideOfASystem_PutsOneMemberPerSystem()
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "0 s", systems: 64);
        var group = GroupPlacement.Place(cluster, 16, 8);
        Assert.Equal(1, group.MembersPerSystem);
        Assert.Equal(16, group.SystemsSpanned);
        Assert.True(group.CrossesFabric);
    }

    [Fact]
    public void ScaleOut_ManyNodes_PrefersTheTree()
    {
        // With a million-chip group, a ring's 2(n-1) latency steps would dominate; the tree's log2(n) steps do not.
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "1 us", systems: 131072);
        var costs = new CollectiveCost(cluster, Perfect);
        var group = GroupPlacement.Place(cluster, 131072, 8);
        var time = costs.Time(CollectiveKind.AllReduce, group, Bytes.Parse("1 MB"));
        Assert.True(time < Duration.Parse("10 ms"), time.ToString());
    }

    [Fact]
    public void Oversubscription_AboveTheLeaf_SlowsCollectivesThatCrossIt()
    {
        var flat = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "0 s", systems: 64);
        var tapered = flat with { Fabric = flat.Fabric with { Tiers = [.. flat.Fabric.Tiers.Select((tier, index) => index == 0 ? tier with { Oversubscription = 2 } : tier)] } };
        var group = GroupPlacement.Place(flat, 64, 8);
        Assert.True(group.FabricTier > 0);
        var onFlat = new CollectiveCost(flat, Perfect).Time(CollectiveKind.AllReduce, group, Buffer);
        var onTapered = new CollectiveCost(tapered, Perfect).Time(CollectiveKind.AllReduce, group, Buffer);
        Assert.True(onTapered > onFlat * 1.5);
    }

    [Fact]
    public void AllToAll_SwitchedDomain_MatchesThePairwiseClosedForm()
    {
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "1 us");
        var time = new CollectiveCost(cluster, Perfect).Time(CollectiveKind.AllToAll, GroupPlacement.Place(cluster, 8, 1), Buffer);

        // Each member keeps 1/n and sends (n-1)/n of its buffer at the per-direction bandwidth, one switch hop.
        Within.Relative((7.0 / 8 * 1e9 / 450e9) + 1e-6, time.Seconds, 1e-12);
    }

    [Fact]
    public void AllToAll_OnATorus_IsBoundedByTheBisection()
    {
        // 4x4x4 torus at 1.2 TB/s per chip over 6 link directions (100 GB/s each): the 64-member all-to-all cannot beat
        // V D / (8 B) = 1 GB x 4 / (8 x 100 GB/s) = 5 ms, against 1.6 ms for the injection bound alone.
        var torus = Cluster(ScaleUpTopologyKind.Torus, [4, 4, 4], "1200 GB/s", latency: "0 s");
        var time = new CollectiveCost(torus, Perfect).Time(CollectiveKind.AllToAll, GroupPlacement.Place(torus, 64, 1), Buffer);
        Within.Relative(1e9 * 4 / 8 / 100e9, time.Seconds, 1e-12);

        var switched = Cluster(ScaleUpTopologyKind.Switched, [64], "1200 GB/s", latency: "0 s");
        var onSwitch = new CollectiveCost(switched, Perfect).Time(CollectiveKind.AllToAll, GroupPlacement.Place(switched, 64, 1), Buffer);
        Assert.True(time > onSwitch * 2, $"torus {time} against switch {onSwitch}");
    }

    [Fact]
    public void AllToAll_AcrossSystems_IsSetByTheSlowerOfTheLocalAndNetworkParts()
    {
        // 32 members on 4 systems of 8: 7/32 of the buffer stays in the system (900 GB/s), 24/32 leaves on a 50 GB/s adapter.
        var cluster = Cluster(ScaleUpTopologyKind.Switched, [8], "900 GB/s", latency: "0 s", systems: 4);
        var time = new CollectiveCost(cluster, Perfect).Time(CollectiveKind.AllToAll, GroupPlacement.Place(cluster, 32, 1), Buffer);
        Within.Relative(24.0 / 32 * 1e9 / 50e9, time.Seconds, 1e-12);
    }

    private static Cluster Cluster(ScaleUpTopologyKind kind, int[] shape, string bandwidth, string latency, int systems = 1, LinkDirection direction = LinkDirection.Bidirectional)
    {
        var chip = Repository.Catalog.Chips["nvidia-h100-sxm"];
        var chips = shape.Aggregate(1, (product, size) => product * size);
        var system = new AcceleratorSystem
        {
            Id = "test",
            Name = "test",
            Vendor = "test",
            Chip = chip,
            Chips = Figure.Assumed<int>(chips, "test"),
            ScaleUpName = "test",
            Topology = new ScaleUpTopology(kind, [.. shape]),
            ScaleUpBandwidth = Figure.Assumed<LinkBandwidth>(new LinkBandwidth(Bandwidth.Parse(bandwidth), direction), "test"),
            ScaleUpLatency = Figure.Assumed<Duration>(Duration.Parse(latency), "test"),
            ScaleOutBandwidth = Figure.Assumed<Bandwidth>(Bandwidth.Parse("50 GB/s"), "test"),
        };
        var tier = new FabricTier("leaf", Figure.Assumed<int>(16, "test"), 1, Figure.Assumed<Duration>(Duration.Zero, "test"));
        var fabric = new Fabric
        {
            Id = "test",
            Name = "test",
            Technology = "test",
            Tiers = ImmutableArray.Create(tier, tier with { Name = "spine" }, tier with { Name = "core", Radix = Figure.Assumed<int>(1024, "test") }),
            Efficiency = Figure.Assumed<double>(1, "test"),
        };
        return new Cluster(system, systems, fabric);
    }
}
