using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Sharing;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sharing;

/// <summary>Which tiers a job's groups climb to, and how their traffic spreads over the tiers, as its systems sit.</summary>
public sealed class JobFootprintTests
{
    private static readonly Cluster DgxH100 = new(Repository.Catalog.Systems["nvidia-dgx-h100"], 16, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);

    private static readonly double[] InTheLeaf = [1, 0, 0];
    private static readonly double[] AboveTheLeaf = [0, 1, 0];
    private static readonly double[] HalfAndHalf = [0.5, 0.5, 0];

    private static JobFootprint On(params int[] systems) => JobFootprint.Of([.. systems], new SwitchGroups(DgxH100));

    [Fact]
    public void AGroupOfTwo_IsNotChargedForTheNextGroupsPair()
    {
        // Systems 2-5 over leaves 0 (0-3) and 1 (4-7); data groups of two, a system apart: {2, 3} and {4, 5}, each in one leaf.
        var footprint = On(2, 3, 4, 5);
        Assert.Equal(0, footprint.HighestTier(2, 8));
        // As a pipeline of four stages, the neighbours 3 and 4 do meet only above the leaves.
        Assert.Equal(1, footprint.HighestNeighbourTier(4, 8));
    }

    [Fact]
    public void AnAllToAll_SendsEveryPairOfSystemsTraffic_WhereTheyMeet()
    {
        Assert.Equal(InTheLeaf, On(0, 1).TrafficShares(16, 1, GroupTraffic.AllToAll).AsEnumerable());
        Assert.Equal(AboveTheLeaf, On(0, 4).TrafficShares(16, 1, GroupTraffic.AllToAll).AsEnumerable());
    }

    [Fact]
    public void ARing_SendsEachEdgesTraffic_WhereItsSystemsMeet()
    {
        // Members on systems 0, 1 (leaf 0) and 4, 5 (leaf 1): edges 0-1 and 4-5 within a leaf, 1-4 and 5-0 above.
        Assert.Equal(HalfAndHalf, On(0, 1, 4, 5).TrafficShares(4, 8, GroupTraffic.Ring).AsEnumerable());
        // As neighbours, without the closing edge: 0-1 and 4-5 in leaves, 1-4 above.
        var neighbours = On(0, 1, 4, 5).TrafficShares(4, 8, GroupTraffic.Neighbours);
        Within.Relative(2 / 3.0, neighbours[0], 1e-12);
        Within.Relative(1 / 3.0, neighbours[1], 1e-12);
    }

    [Fact]
    public void APipelinesSends_CountEveryPair_ThoseWithinASystemStayingThere()
    {
        // Sixteen stages a chip apart over two systems: of fifteen neighbouring pairs, one leaves its system.
        var shares = On(0, 1).TrafficShares(16, 1, GroupTraffic.Neighbours);
        Within.Relative(1 / 15.0, shares[0], 1e-12);
        Assert.Equal(1 / 15.0, shares.Sum(), 12);
    }

    [Fact]
    public void OnAStructuredFabric_TheStepsTrafficFollowsThePairs_NotTheWorstGroup()
    {
        // A Qwen3-30B-A3B job whose expert groups span two systems, dealt round the leaves of two spine groups: only
        // the expert group that straddles them sends over the core; the worst group sets the time, not the traffic.
        var result = SharedClusters.Run(SharedClusters.Text(256, "1, 3, 1", "spread", SharedClusters.ExpertJob(64)));
        var job = Assert.Single(result.Jobs);
        var traffic = job.Shared.ScaleOutTrafficPerChip;
        Assert.True(traffic[1].Count > 10 * traffic[2].Count, $"spine {traffic[1]}, core {traffic[2]}");
        Assert.True(traffic[2].Count > 0);
    }

    [Fact]
    public void HigherZeroStages_SendMoreOverTheNetwork()
    {
        double ScaleOut(int zero) =>
            AnalyticalEngine.SimulateStep(SharedClusters.Load(SharedClusters.Text(8, string.Empty, "packed", SharedClusters.DataParallelJob(4).Replace("zero: 2", $"zero: {zero}", StringComparison.Ordinal))).Jobs[0].Scenario)
                .ScaleOutTrafficPerChip.Sum(bytes => bytes.Count);
        var (one, two, three) = (ScaleOut(1), ScaleOut(2), ScaleOut(3));
        Assert.True(one < two && two < three, $"ZeRO-1 {one}, 2 {two}, 3 {three}");
    }
}
