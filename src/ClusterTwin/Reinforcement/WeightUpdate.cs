using ClusterTwin.Hardware;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Scenarios;
using ClusterTwin.Serving;
using ClusterTwin.Units;

namespace ClusterTwin.Reinforcement;

/// <summary>
/// Moving the trained weights to the rollout engine after each update (verl's resharding, NeMo-RL's refit, slime's
/// weight sync), at the rollout engine's weight format.
/// </summary>
public static class WeightUpdate
{
    /// <summary>
    /// Colocated: every chip gathers the whole model from the trainer's shards, in layer-sized buffers, as verl's FSDP
    /// and NeMo-RL's Megatron refit do before the rollout engine keeps its own slice: an all-gather of the weights over
    /// the chips the trainer shards them across (tensor times pipeline, and the data-parallel group under ZeRO-3),
    /// placed and costed as the step's own collectives are. A trainer that holds the whole model on each chip moves nothing.
    /// </summary>
    public static Duration Colocated(Scenario trainer, ServingDeployment rollout)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        var plan = trainer.Plan;
        var sharding = (long)plan.TensorParallelism * plan.PipelineParallelism * (plan.ZeroStage >= 3 ? plan.ShardingDegree : 1);
        var group = (int)Math.Min(sharding, trainer.Cluster.ChipCount);
        if (group <= 1)
        {
            return Duration.Zero;
        }

        var placed = GroupPlacement.Place(trainer.Cluster, group, 1);
        return new CollectiveCost(trainer.Cluster, trainer.Efficiency).Time(CollectiveKind.AllGather, placed, ReplicaWeights(rollout));
    }

    /// <summary>
    /// Separate pools: each rollout chip receives its own slice of the weights through its scale-out adapter, while the
    /// trainer's chips send the model once between them (the rollout replicas pass it on, as a pipelined broadcast
    /// does); the slower side sets the time, plus one crossing of the fabric's first tier. Null where either system has
    /// no scale-out bandwidth in the catalogue.
    /// </summary>
    public static Duration? Separate(Cluster trainer, ServingDeployment rollout)
    {
        ArgumentNullException.ThrowIfNull(trainer);
        ArgumentNullException.ThrowIfNull(rollout);
        if (Adapter(trainer) is not { } sending || Adapter(rollout.Cluster) is not { } receiving)
        {
            return null;
        }

        var sent = ReplicaWeights(rollout) / trainer.ChipCount / sending;
        var received = rollout.WeightsPerChip / receiving;
        return Duration.Max(sent, received) + Duration.Max(trainer.SendLatency(acrossSystems: true), rollout.Cluster.SendLatency(acrossSystems: true));
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
