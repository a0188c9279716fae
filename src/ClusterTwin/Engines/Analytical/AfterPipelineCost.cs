using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// What a pipeline rank spends once its last backward pass is done: the gradient reduction its passes do not hide, and
/// the optimizer step over its chips' parameters. A value, so that the closed form (a plan search's every layout) keeps
/// it on the stack and a <see cref="RankCosting"/> holds a copy, no closure made for either.
/// </summary>
internal readonly record struct AfterPipelineCost(ParallelPlan Plan, TrainingJob Job, CollectiveCost Collectives, CommunicationGroup DataGroup, CommunicationGroup ReplicaGroup,
    CommunicationGroup ExpertDataGroup, CommunicationGroup ExpertReplicaGroup, double MicroBatches, double GradientBytes, CollectiveChannels? Channels, int ExpertSharding, bool MasterOnly, KernelCost Kernels)
{
    /// <summary>
    /// Bytes per parameter a mixed-precision Adam step moves through memory, pass by pass as Megatron-LM runs it:
    /// cast the gradient to the FP32 main gradient (2 read + 4 written), unscale it and check for overflow (4 + 4),
    /// take its norm for clipping (4), update (gradient, master weight and two moments read: 16; master weight
    /// and moments written: 12), and copy the master weight back to the 16-bit model weight (4 + 2).
    /// </summary>
    private const double OptimizerTrafficPerParameter = 2 + 4 + 4 + 4 + 4 + 16 + 12 + 4 + 2;

    /// <summary>The copy back to the 16-bit model weight (4 read + 2 written), which a framework keeping only the FP32 shard does not make.</summary>
    private const double WeightCopyTrafficPerParameter = 4 + 2;

    /// <summary>
    /// For a rank whose chips hold <paramref name="shared"/> parameters (and <paramref name="experts"/> of routed
    /// experts), its passes costing <paramref name="stage"/>: the exposed reduction, the optimizer step, and the
    /// optimizer's memory traffic per chip.
    /// </summary>
    public (Duration DataParallel, Duration Optimizer, Bytes OptimizerTraffic) Of(double shared, double experts, StageCost stage)
    {
        var reduced = DataParallelExposure.ShardingGroup(Plan, Job, Collectives, DataGroup, shared, Plan.ShardingDegree, stage, MicroBatches, GradientBytes, Channels) +
                      DataParallelExposure.ReplicaGroups(Plan, Collectives, ReplicaGroup, shared, Plan.ShardingDegree, stage, GradientBytes, Channels) +
                      DataParallelExposure.ShardingGroup(Plan, Job, Collectives, ExpertDataGroup, experts, Plan.ExpertShardingDegree, stage, MicroBatches, GradientBytes, Channels) +
                      DataParallelExposure.ReplicaGroups(Plan, Collectives, ExpertReplicaGroup, experts, Plan.ExpertShardingDegree, stage, GradientBytes, Channels);
        var updated = (shared / (Plan.ZeroStage >= 1 ? Plan.ShardingDegree : 1)) + (experts / ExpertSharding);
        var traffic = Bytes.FromCount(updated * (OptimizerTrafficPerParameter - (MasterOnly ? WeightCopyTrafficPerParameter : 0)));
        return (reduced, Kernels.Time(KernelKind.Memory, Flops.Zero, traffic), traffic);
    }
}
