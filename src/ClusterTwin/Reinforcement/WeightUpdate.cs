using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// Moving the trained weights to the rollout engine after each update (verl's resharding, NeMo RL's refit, slime's
/// weight sync), at the rollout engine's weight format. At the links' rates, each chip receiving the slice of the
/// model it serves, it is the bound per chip that broadcast engines approach (docs/rl-post-training.md); a rate measured on a
/// framework (<see cref="ReinforcementSettings.WeightUpdateBandwidth"/>) replaces the links'.
/// </summary>
public static class WeightUpdate
{
    /// <summary>
    /// Colocated: each chip receives the part of its serving slice its training shard does not hold. At best (the
    /// layouts aligned) it holds <c>c / g</c> of it, where a rollout replica spans <c>c</c> chips and the trainer splits
    /// the weights over <c>g</c> (<see cref="SplitChips"/>), and the rest lies on the <c>g / c - 1</c> other chips whose
    /// pieces overlap the slice: its peers in the tensor or expert group wider than the replica, and its counterparts in
    /// the other pipeline stages. Those the plan's rank order puts in the chip's scale-up domain send over the scale-up
    /// links, the others over the chip's scale-out adapter; plus one crossing. Each chip is costed receiving on its own:
    /// a bound per chip, where chips of one domain that need the same bytes could share one crossing of the fabric.
    /// </summary>
    public static Duration Colocated(Scenario trainer, ServingDeployment rollout, Bandwidth? measured = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        var split = SplitChips(trainer);
        var replica = (double)rollout.ChipsPerReplica;
        var received = rollout.ModelWeightsPerChip * (1 - Math.Min(1, replica / split));
        if (received.Count <= 0)
        {
            return Duration.Zero;
        }

        if (measured is { } rate)
        {
            return received / rate;
        }

        var system = trainer.Cluster.System;
        var (width, stages) = SplitInDomain(trainer);
        var local = Math.Clamp(((stages * Math.Max(1, width / replica)) - 1) / ((split / replica) - 1), 0, 1);
        var overScaleUp = received * local / system.ScaleUpBandwidth.Value.PerDirection;
        var overScaleOut = local >= 1 || Adapter(trainer.Cluster) is not { } adapter ? Duration.Zero : received * (1 - local) / adapter;
        return Duration.Max(overScaleUp, overScaleOut) + trainer.Cluster.SendLatency(acrossSystems: local < 1);
    }

    /// <summary>
    /// Separate pools: each rollout chip receives its slice of the model through its scale-out adapter, while the
    /// trainer's chips send the model once between them (the rollout replicas pass it on, as a pipelined broadcast
    /// does); the slower side sets the time, plus one crossing of the fabric. Null where either system has no
    /// scale-out bandwidth in the catalogue (the loader refuses such pools).
    /// </summary>
    public static Duration? Separate(Scenario trainer, ServingDeployment rollout, Bandwidth? measured = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        if (measured is { } rate)
        {
            return rollout.ModelWeightsPerChip / rate;
        }

        if (Adapter(trainer.Cluster) is not { } sending || Adapter(rollout.Cluster) is not { } receiving)
        {
            return null;
        }

        var model = Bytes.FromCount(rollout.Model.Parameters * rollout.WeightBytesPerElement);
        var sent = model / trainer.Cluster.ChipCount / sending;
        var received = rollout.ModelWeightsPerChip / receiving;
        return Duration.Max(sent, received) + Duration.Max(trainer.Cluster.SendLatency(acrossSystems: true), rollout.Cluster.SendLatency(acrossSystems: true));
    }

    /// <summary>
    /// The chips a trainer splits the weights over, each holding a different part: the pipeline's stages times the
    /// wider of the tensor group (the dense weights; with its sharding group under ZeRO-3) and the expert group (the
    /// routed experts, whole on each of its chips: expert tensor parallelism 1).
    /// </summary>
    public static long SplitChips(Scenario trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var plan = trainer.Plan;
        return Math.Min((long)plan.PipelineParallelism * Width(plan), trainer.Cluster.ChipCount);
    }

    /// <summary>
    /// The chips of the split (<see cref="SplitChips"/>) that share a chip's scale-up domain: <c>Width</c> of its tensor
    /// group (under ZeRO-3, with the sharding group's ranks <see cref="RankStrides.Gradient"/> apart) or its expert group
    /// (<see cref="RankStrides.Expert"/> apart), the wider, times <c>Stages</c> of the pipeline's
    /// (<see cref="RankStrides.Pipeline"/> apart) in the room the domain has left.
    /// </summary>
    public static (long Width, long Stages) SplitInDomain(Scenario trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var plan = trainer.Plan;
        var domain = Math.Min(trainer.Cluster.System.DomainChips, trainer.Cluster.ChipCount);
        var strides = RankStrides.Of(plan);
        long InDomain(long members, long stride) => stride >= domain ? 1 : Math.Min(members, Math.Max(1, domain / stride));
        var tensor = Math.Min(plan.TensorParallelism, domain);
        var sharded = plan.ZeroStage >= 3 ? tensor * InDomain(plan.ShardingDegree, strides.Gradient(plan)) : tensor;
        var width = Math.Min(domain, Math.Max(sharded, InDomain(plan.ExpertParallelism, strides.Expert(plan))));
        return (width, Math.Min(InDomain(plan.PipelineParallelism, strides.Pipeline), Math.Max(1, domain / width)));
    }

    /// <summary>
    /// Colocated: the trainer's weights, gradients and optimizer state move to the host while the rollout engine holds
    /// its share of the chips' memory, and back before training (verl's parameter and optimizer offload, NeMo RL's
    /// offload before generation): always, never, or where both do not fit at once (<paramref name="when"/>). Zero where
    /// nothing moves; null where the state must move and the system has no host link, or must move and may not.
    /// </summary>
    /// <param name="trainerState">The trainer's weights, gradients and optimizer state per chip.</param>
    /// <param name="rollout">The rollout engine, holding <see cref="ServingDeployment.MemoryUtilization"/> of each chip's memory.</param>
    /// <param name="when">When the state moves.</param>
    public static Duration? Offload(Bytes trainerState, ServingDeployment rollout, TrainerOffload when)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        var capacity = rollout.Cluster.Chip.MemoryCapacity.Value;
        var fits = trainerState + (capacity * rollout.MemoryUtilization) <= capacity;
        if (when == TrainerOffload.Never || (fits && when == TrainerOffload.WhereNeeded))
        {
            return fits ? Duration.Zero : null;
        }

        return rollout.Cluster.System.OffloadBandwidth is { } link ? trainerState * 2 / link : null;
    }

    // The tensor group's chips (times the sharding group under ZeRO-3) or the expert group's, whichever is wider.
    private static long Width(ParallelPlan plan) =>
        Math.Max((long)plan.TensorParallelism * (plan.ZeroStage >= 3 ? plan.ShardingDegree : 1), plan.ExpertParallelism);

    // A chip's scale-out bandwidth, at the fabric's efficiency.
    private static Bandwidth? Adapter(Cluster cluster) => cluster.System.ScaleOutBandwidth?.Value * cluster.Fabric.Efficiency.Value;
}
