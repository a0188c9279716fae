using ClusterTwin.Hardware;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// Moving the trained weights to the rollout engine after each update (verl's resharding, NeMo-RL's refit, slime's
/// weight sync), at the rollout engine's weight format. At the links' rates, each chip receiving the slice of the
/// weights it serves, it is the floor that broadcast engines approach (docs/rl-post-training.md); a rate measured on a
/// framework (<see cref="ReinforcementSettings.WeightUpdateBandwidth"/>) replaces the links'.
/// </summary>
public static class WeightUpdate
{
    /// <summary>
    /// Colocated: each chip receives the part of its serving slice it does not already hold from its training shard
    /// (all of it but <c>t_s p_s / g</c> of it, where the trainer splits the weights over <c>g</c> chips and the
    /// layouts align at best), from the chips of the trainer's split: over the scale-up links for those in its domain,
    /// over its scale-out adapter for the rest; plus one crossing.
    /// </summary>
    public static Duration Colocated(Scenario trainer, ServingDeployment rollout, Bandwidth? measured = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        var split = SplitChips(trainer);
        var held = Math.Min(1, rollout.ChipsPerReplica / (double)split);
        var received = rollout.WeightsPerChip * (1 - held);
        if (received.Count <= 0)
        {
            return Duration.Zero;
        }

        var system = trainer.Cluster.System;
        if (measured is { } rate)
        {
            return received / rate;
        }

        // The other chips of the split, as many of them inside this chip's scale-up domain as it holds.
        var local = Math.Min(1, (system.DomainChips - 1) / (double)(split - 1));
        var overScaleUp = received * local / system.ScaleUpBandwidth.Value.PerDirection;
        var overScaleOut = local >= 1 ? Duration.Zero
            : Adapter(trainer.Cluster) is { } adapter ? received * (1 - local) / adapter
            : received * (1 - local) / system.ScaleUpBandwidth.Value.PerDirection;
        return Duration.Max(overScaleUp, overScaleOut) + trainer.Cluster.SendLatency(acrossSystems: local < 1);
    }

    /// <summary>
    /// Separate pools: each rollout chip receives its slice of the weights through its scale-out adapter, while the
    /// trainer's chips send the model once between them (the rollout replicas pass it on, as a pipelined broadcast
    /// does); the slower side sets the time, plus one crossing of the fabric. Null where either system has no
    /// scale-out bandwidth in the catalogue.
    /// </summary>
    public static Duration? Separate(Cluster trainer, ServingDeployment rollout, Bandwidth? measured = null)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        if (measured is { } rate)
        {
            return rollout.WeightsPerChip / rate;
        }

        if (Adapter(trainer) is not { } sending || Adapter(rollout.Cluster) is not { } receiving)
        {
            return null;
        }

        var sent = ReplicaWeights(rollout) / trainer.ChipCount / sending;
        var received = rollout.WeightsPerChip / receiving;
        return Duration.Max(sent, received) + Duration.Max(trainer.SendLatency(acrossSystems: true), rollout.Cluster.SendLatency(acrossSystems: true));
    }

    /// <summary>
    /// The chips a trainer splits the weights over, each holding a different part: tensor times pipeline times expert
    /// parallelism (the routed experts, most of a mixture's weights), or the whole sharding group under ZeRO-3.
    /// </summary>
    public static long SplitChips(Scenario trainer)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        var plan = trainer.Plan;
        var across = plan.ZeroStage >= 3 ? Math.Max(plan.ExpertParallelism, plan.ShardingDegree) : plan.ExpertParallelism;
        return Math.Min((long)plan.TensorParallelism * plan.PipelineParallelism * across, trainer.Cluster.ChipCount);
    }

    /// <summary>
    /// Colocated: the trainer's weights, gradients and optimizer state move to the host while the rollout engine holds
    /// its share of the chips' memory, and back before training (verl's parameter and optimizer offload, NeMo-RL's
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

    /// <summary>One rollout replica's weights at its format: the whole model (and a speculative draft).</summary>
    public static Bytes ReplicaWeights(ServingDeployment rollout)
    {
        ArgumentNullException.ThrowIfNull(rollout);
        return rollout.WeightsPerChip * rollout.ChipsPerReplica;
    }

    // A chip's scale-out bandwidth, at the fabric's efficiency.
    private static Bandwidth? Adapter(Cluster cluster) => cluster.System.ScaleOutBandwidth?.Value * cluster.Fabric.Efficiency.Value;
}
