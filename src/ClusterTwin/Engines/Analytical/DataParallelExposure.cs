using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// The data-parallel collectives of a step that the compute does not hide: a sharding group's gradient reductions
/// and weight gathers by ZeRO stage, and the reduction across replica groups under hybrid sharding, each hidden behind
/// the pass it follows or precedes where overlap is on, holding its channels' share of the chip while it runs.
/// </summary>
internal static class DataParallelExposure
{
    /// <summary>
    /// Data-parallel communication the compute does not hide. Gradients are reduced in the job's reduction precision
    /// (<paramref name="gradientBytesPerParameter"/>: 4 in FP32, Megatron-Core's default, 2 in BF16). ZeRO-0 all-reduces them once per step, ZeRO-1
    /// reduce-scatters them once and all-gathers the updated weights; ZeRO-2 and 3 keep only a gradient shard, so they
    /// reduce-scatter after every micro-batch, and ZeRO-3 also gathers the weights for every forward and backward.
    /// With overlap, a reduction hides behind the backward pass it follows and a gather behind the forward it precedes,
    /// holding the framework's <paramref name="channels"/> while it runs (<see cref="Exposed"/>).
    /// </summary>
    internal static Duration ShardingGroup(ParallelPlan plan, TrainingJob job, CollectiveCost collectives, CommunicationGroup dataGroup, double parametersPerChip, int shardingDegree, StageCost slowest, double microBatches, double gradientBytesPerParameter, CollectiveChannels? channels)
    {
        if (shardingDegree <= 1 || parametersPerChip <= 0)
        {
            return Duration.Zero;
        }

        var gradientBytes = Bytes.FromCount(parametersPerChip * gradientBytesPerParameter);
        var (forwardWindow, backwardWindow) = OverlapWindows(plan, slowest);
        var (forwardShare, backwardShare) = WindowShares(channels, dataGroup, slowest);
        if (plan.ZeroStage == 0)
        {
            return Exposed(collectives.Time(CollectiveKind.AllReduce, dataGroup, gradientBytes), backwardWindow, parametersPerChip, backwardShare);
        }

        var reduceScatter = collectives.Time(CollectiveKind.ReduceScatter, dataGroup, gradientBytes);
        var allGather = collectives.Time(CollectiveKind.AllGather, dataGroup, Bytes.FromCount(parametersPerChip * Math.Min(2, job.MatrixBytesPerElement)));
        return plan.ZeroStage switch
        {
            1 => Exposed(reduceScatter, backwardWindow, parametersPerChip, backwardShare) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare),
            2 => (Exposed(reduceScatter, backwardWindow, parametersPerChip, backwardShare) * microBatches) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare),
            _ => (Exposed(reduceScatter + allGather, backwardWindow, parametersPerChip, backwardShare) + Exposed(allGather, forwardWindow, parametersPerChip, forwardShare)) * microBatches,
        };
    }

    /// <summary>
    /// Under hybrid sharding, each sharding group's gradient shard (of <paramref name="shardingDegree"/> members) is
    /// all-reduced across the replica groups once per step, after the last backward pass (hidden behind it where overlap
    /// is on): the shared parameters' across the data replicas, the routed experts' across the expert replicas.
    /// </summary>
    internal static Duration ReplicaGroups(ParallelPlan plan, CollectiveCost collectives, CommunicationGroup replicaGroup, double parametersPerChip, int shardingDegree, StageCost slowest, double gradientBytesPerParameter, CollectiveChannels? channels)
    {
        if (replicaGroup.Size <= 1 || parametersPerChip <= 0)
        {
            return Duration.Zero;
        }

        var shard = Bytes.FromCount(parametersPerChip * gradientBytesPerParameter / (plan.ZeroStage >= 1 ? shardingDegree : 1));
        return Exposed(collectives.Time(CollectiveKind.AllReduce, replicaGroup, shard), OverlapWindows(plan, slowest).Backward, parametersPerChip, WindowShares(channels, replicaGroup, slowest).Backward);
    }

    /// <summary>
    /// The share of the chip a hidden collective of <paramref name="group"/> takes from the window it hides behind, the
    /// forward's and the backward's (<see cref="OverlapWindows"/>): its channels' share of the chip, over the part of
    /// each window the chip computes in. Where the chip waits for the host's expert launches its multiprocessors are
    /// idle, and a collective there takes nothing from the computation.
    /// </summary>
    private static (double Forward, double Backward) WindowShares(CollectiveChannels? channels, CommunicationGroup group, StageCost slowest)
    {
        if (channels is null)
        {
            return (0, 0);
        }

        var share = channels.ComputeShare(group.MembersPerSystem, group.CrossesFabric);
        static double Computing(Duration compute, Duration waiting) => compute + waiting > Duration.Zero ? compute / (compute + waiting) : 1;
        return (share * Computing(slowest.Compute, slowest.HostWait),
                share * Computing((slowest.Compute * (2.0 / 3)) + slowest.Recompute, (slowest.HostWait * (2.0 / 3)) + slowest.RecomputeHostWait));
    }

    /// <summary>
    /// The compute a data-parallel collective can hide behind on the slowest stage, per micro-batch: the forward pass
    /// (a third of the forward-and-backward kernels) for a weight gather, the backward pass and its recompute for a
    /// gradient reduction; nothing when overlap is off.
    /// </summary>
    private static (Duration Forward, Duration Backward) OverlapWindows(ParallelPlan plan, StageCost slowest) =>
        plan.OverlapGradientReduction
            ? ((slowest.Compute + slowest.HostWait) / 3, ((slowest.Compute + slowest.HostWait) * (2.0 / 3)) + slowest.Recompute + slowest.RecomputeHostWait)
            : (Duration.Zero, Duration.Zero);

    /// <summary>
    /// What a data-parallel collective adds to the step. Gradients are reduced in buckets as the backward pass produces
    /// them (Megatron-LM's 40M-parameter buckets, FSDP's per-layer units), so the last bucket always waits for the end
    /// of the pass: at least that share of the collective shows, however long the window. The rest shows where it
    /// outlasts the window; where it is hidden, it still holds <paramref name="computeShare"/> of the chip
    /// (<see cref="CollectiveChannels"/>), so the computation it overlaps runs that much longer.
    /// </summary>
    private static Duration Exposed(Duration communication, Duration window, double parametersPerChip, double computeShare)
    {
        var last = communication * Math.Min(1, MemoryModel.GradientBucketParameters / Math.Max(parametersPerChip, 1));
        var hidden = Duration.Min(communication - last, window);
        return Duration.Max(communication - window, last) + (hidden * computeShare);
    }
}
