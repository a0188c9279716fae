using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Sharing;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Sharing;

public sealed class SharedFabricTests
{
    [Fact]
    public void OneJobFillingTheCluster_Packed_IsSimulatesStep()
    {
        var result = SharedClusters.Run(SharedClusters.Text(16, "1, 3, 1", "packed", SharedClusters.DataParallelJob(16)));
        var job = Assert.Single(result.Jobs);
        Assert.True(job.Valid);
        Assert.Equal(job.Alone.StepTime, job.InPlace.StepTime);
        Assert.Equal(job.Alone.StepTime, job.Shared.StepTime);
        Assert.Equal(job.Alone.StepTimeHigh, job.Shared.StepTimeHigh);
        Assert.Equal(0, job.Slowdown);
        Assert.True(result.Converged);
    }

    [Theory]
    [InlineData(4, 8)]
    [InlineData(8, 8)]
    [InlineData(16, 8)]
    [InlineData(4, 64)]
    [InlineData(4, 32)]
    [InlineData(32, 8)]
    [InlineData(2, 1024)]
    public void PackedFromTheFirstSystem_ClimbsAsTheEnginesSpanRule(int size, long stride)
    {
        // Alone on consecutive systems, a job's groups cross what GroupPlacement's span rule says.
        var cluster = new Cluster(Repository.Catalog.Systems["nvidia-dgx-h100"], 256, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);
        var footprint = JobFootprint.Of([.. Enumerable.Range(0, 256)], new SwitchGroups(cluster));
        Assert.Equal(GroupPlacement.Place(cluster, size, stride).FabricTier, footprint.HighestTier(size, stride));
    }

    [Fact]
    public void PipelineNeighbours_AcrossASpineGroupsEdge_CrossTheCore()
    {
        // 32 stages 8 systems apart: the span rule places every pair within a spine group (128 DGX H100), but on 256
        // consecutive systems the stages on systems 120 and 128 straddle two. Groups of two, not neighbours, do not.
        var cluster = new Cluster(Repository.Catalog.Systems["nvidia-dgx-h100"], 256, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);
        var footprint = JobFootprint.Of([.. Enumerable.Range(0, 256)], new SwitchGroups(cluster));
        Assert.Equal(1, GroupPlacement.PlaceNeighbours(cluster, 32, 64).FabricTier);
        Assert.Equal(2, footprint.HighestNeighbourTier(32, 64));
        Assert.Equal(2, GroupPlacement.PlaceNeighbours(cluster with { Placement = footprint }, 32, 64).FabricTier);
        Assert.Equal(1, footprint.HighestTier(2, 64));
    }

    [Fact]
    public void DealtRoundTheLeaves_TwoSystemsCrossTheSpine()
    {
        var cluster = new Cluster(Repository.Catalog.Systems["nvidia-dgx-h100"], 256, Repository.Catalog.Fabrics["infiniband-ndr-fat-tree"]);
        var groups = new SwitchGroups(cluster);
        var order = groups.DealingOrder(PlacementPolicy.Spread, 1);
        // The first 64 dealt are one per leaf, leaves 0-31 under one spine group and 32-63 under the other.
        var footprint = JobFootprint.Of(order.Slice(0, 64), groups);
        Assert.Equal(0, GroupPlacement.Place(cluster with { SystemCount = 64 }, 2, 8).FabricTier);
        Assert.Equal(2, footprint.HighestTier(64, 8));
        Assert.Equal(1, footprint.HighestTier(4, 8));
    }

    [Fact]
    public void NonBlockingFabric_SharedIsPlaced_WhateverThePlacement()
    {
        foreach (var placement in new[] { "packed", "spread", "random" })
        {
            var result = SharedClusters.Run(SharedClusters.Text(32, string.Empty, placement, SharedClusters.DataParallelJob(16, "a"), SharedClusters.ExpertJob(16, "b")));
            Assert.All(result.Jobs, job => Assert.Equal(job.InPlace.StepTime, job.Shared.StepTime));
            Assert.All(result.Jobs, job => Assert.Equal(job.InPlace.StepTime, job.Aligned.StepTime));
        }
    }

    [Fact]
    public void Oversubscribed_AlignedPhasesBoundTheIndependentOnes()
    {
        // Two systems of each job in every leaf, 2:1 above them: alone a job fills its half of the uplinks, beside the other it meets it.
        var result = SharedClusters.Run(SharedClusters.Text(256, "2, 4, 1", "spread", SharedClusters.DataParallelJob(128, "a"), SharedClusters.ExpertJob(128, "b")));
        Assert.True(result.Converged);
        Assert.All(result.Jobs, job =>
        {
            Assert.True(job.Shared.StepTime >= job.InPlace.StepTime, $"{job.Name}: shared {job.Shared.StepTime} < placed {job.InPlace.StepTime}");
            Assert.True(job.Aligned.StepTime >= job.Shared.StepTime, $"{job.Name}: aligned {job.Aligned.StepTime} < shared {job.Shared.StepTime}");
        });
        Assert.Contains(result.Jobs, job => job.Slowdown > 0.001);
        Assert.True(result.ChipWeightedSlowdown > 0);
    }

    [Fact]
    public void MoreOversubscription_SlowsTheSharedJobsMore()
    {
        double Slowdown(string ratio) => SharedClusters.Run(SharedClusters.Text(256, $"1, {ratio}, 1", "spread", SharedClusters.DataParallelJob(128, "a"), SharedClusters.ExpertJob(128, "b"))).Jobs[1].Shared.StepTime.Seconds;
        var (two, three, six) = (Slowdown("2"), Slowdown("3"), Slowdown("6"));
        Assert.True(two < three && three < six, $"2:1 {two}, 3:1 {three}, 6:1 {six}");
    }

    [Fact]
    public void PackedJobsInTheirOwnSpineGroups_DoNotMeet()
    {
        // Each job fills one of the two spine groups: no traffic climbs above the spines, whatever their ratio.
        var result = SharedClusters.Run(SharedClusters.Text(256, "1, 6, 1", "packed", SharedClusters.DataParallelJob(128, "a"), SharedClusters.ExpertJob(128, "b")));
        Assert.All(result.Jobs, job => Assert.Equal(job.InPlace.StepTime, job.Shared.StepTime));
        Assert.Equal(0, result.Tiers[1].BusiestLoad);
    }

    [Fact]
    public void TwoAlikeJobs_DealtAlike_AreSlowedAlike()
    {
        // Spread round 64 leaves, two jobs of 128 systems each take two systems of every leaf: mirror images.
        var result = SharedClusters.Run(SharedClusters.Text(256, "2, 3, 1", "spread", SharedClusters.DataParallelJob(128, "a"), SharedClusters.DataParallelJob(128, "b")));
        Assert.True(result.Jobs[0].Slowdown > 0);
        Within.Relative(result.Jobs[0].Shared.StepTime.Seconds, result.Jobs[1].Shared.StepTime.Seconds, 1e-9);
        Assert.Equal(result.Jobs[0].Factor.AsEnumerable(), result.Jobs[1].Factor.AsEnumerable());
    }

    [Fact]
    public void TheSameFile_GivesTheSameSteps()
    {
        var text = SharedClusters.Text(128, "1, 3, 1", "random", SharedClusters.DataParallelJob(48, "a"), SharedClusters.ExpertJob(64, "b"));
        var (first, second) = (SharedClusters.Run(text), SharedClusters.Run(text));
        Assert.Equal(first.Jobs.Select(job => job.Shared.StepTime.Seconds), second.Jobs.Select(job => job.Shared.StepTime.Seconds));
        Assert.Equal(first.Iterations, second.Iterations);
    }

    [Fact]
    public void Duties_AreTheScaleOutBytesOverTheirRate_OverTheStep()
    {
        // One job alone across two spine groups (3:1 above them, but it fills neither): its duty above the spine is its
        // bytes crossing the core, at the adapter's rate times the fabric's efficiency, over its step.
        var result = SharedClusters.Run(SharedClusters.Text(256, "1, 3, 1", "spread", SharedClusters.DataParallelJob(64)));
        var job = Assert.Single(result.Jobs);
        var cluster = result.Cluster.Cluster;
        var rate = cluster.System.ScaleOutBandwidth!.Value * cluster.Fabric.Efficiency.Value / job.Factor[0];
        var core = job.Shared.ScaleOutTrafficPerChip[2];
        Assert.True(core.Count > 0);
        Within.Relative((core / rate) / job.Shared.StepTime, job.Duty[1], 1e-9);
        Assert.True(job.Duty[0] >= job.Duty[1]);
    }
}
