using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Collectives;

/// <summary>
/// What a context-parallel group exchanges around one layer's attention, per micro-batch, on one chip (BF16).
/// </summary>
/// <param name="RingStep">Under ring attention, one of the ring's <c>c - 1</c> sends of the key-value block (the engine overlaps each with the attention against the block held); zero otherwise.</param>
/// <param name="Forward">Under all-gather or all-to-all, the forward pass's exposed collectives; zero under ring attention.</param>
/// <param name="Backward">The same for the backward pass.</param>
public readonly record struct ContextPass(Duration RingStep, Duration Forward, Duration Backward)
{
    /// <summary>
    /// Where the context-parallel exchange runs on <paramref name="cluster"/>: for ring attention the pair of
    /// neighbouring ranks whose sends are slowest, for the all-gather and all-to-all the whole group.
    /// </summary>
    public static CommunicationGroup Group(Cluster cluster, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var stride = RankStrides.Of(plan).Context;
        return plan.ContextCommunication == ContextCommunication.Ring
            ? GroupPlacement.PlaceNeighbours(cluster, plan.ContextParallelism, stride)
            : GroupPlacement.Place(cluster, plan.ContextParallelism, stride);
    }

    /// <summary>
    /// The pass of <paramref name="plan"/>'s context-parallel group, placed as <see cref="Group"/> places it:
    /// nothing without context parallelism.
    /// </summary>
    public static ContextPass Of(CollectiveCost collectives, CommunicationGroup group, ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.ContextParallelism <= 1)
        {
            return default;
        }

        var block = KeyValueBlock(model, job, plan);
        var ranks = (double)plan.ContextParallelism;
        switch (plan.ContextCommunication)
        {
            case ContextCommunication.AllGather:
                // Forward: all-gather the keys and values. Backward: gather them again (Transformer Engine keeps the
                // local block only) and reduce-scatter their gradients.
                var gather = collectives.Time(CollectiveKind.AllGather, group, block * ranks);
                return new ContextPass(Duration.Zero, gather, gather + collectives.Time(CollectiveKind.ReduceScatter, group, block * ranks));
            case ContextCommunication.AllToAll:
                // Forward: queries, keys and values from the sequence split to the head split, then the output back.
                // Backward: the output's gradient out, the three gradients back.
                var (inputs, output) = HeadExchange(model, job, plan);
                var pair = collectives.Time(CollectiveKind.AllToAll, group, inputs) + collectives.Time(CollectiveKind.AllToAll, group, output);
                return new ContextPass(Duration.Zero, pair, pair);
            default:
                return new ContextPass(collectives.Time(CollectiveKind.PointToPoint, group, block), Duration.Zero, Duration.Zero);
        }
    }

    /// <summary>
    /// Bytes one chip sends per layer and micro-batch: ring attention sends its block <c>c - 1</c> times in a forward
    /// pass and block and gradient in the backward; the all-gather sends the block to <c>c - 1</c> ranks in the
    /// forward, and again with the gradients' reduce-scatter in the backward; the all-to-all sends the share of its
    /// buffers bound elsewhere once per pass. A recompute of the attention core (full, or selective with it) replays
    /// the forward's.
    /// </summary>
    public static Bytes SentPerLayer(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var ranks = plan.ContextParallelism;
        if (ranks <= 1)
        {
            return Bytes.Zero;
        }

        var forwardPasses = ReplaysExchange(plan) ? 2 : 1;
        if (plan.ContextCommunication == ContextCommunication.AllToAll)
        {
            var (inputs, output) = HeadExchange(model, job, plan);
            return (inputs + output) * ((ranks - 1) / (double)ranks * (forwardPasses + 1));
        }

        return KeyValueBlock(model, job, plan) * ((ranks - 1) * (forwardPasses + 2.0));
    }

    /// <summary>
    /// Whether the backward pass replays the exchange: it sits inside the attention core, which a full recompute and a
    /// selective one of <c>core_attn</c> run again.
    /// </summary>
    public static bool ReplaysExchange(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.Recompute == RecomputePolicy.Full || plan.Recomputed.HasFlag(RecomputeModules.CoreAttention);
    }

    /// <summary>The keys and values one chip holds for its slice of a micro-batch's sequences (BF16).</summary>
    public static Bytes KeyValueBlock(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        return Bytes.FromCount(LayerKernels.Tokens(job, plan) * 2 * model.KeyValueWidthPerRank(plan.TensorParallelism, plan.RanksPerChip) * 2);
    }

    /// <summary>
    /// Under all-to-all, the buffers one chip exchanges per layer and pass (BF16): its queries, keys and values, and
    /// the attention's output.
    /// </summary>
    public static (Bytes Inputs, Bytes Output) HeadExchange(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var tokens = LayerKernels.Tokens(job, plan);
        double tensor = plan.TensorParallelism;
        return (Bytes.FromCount(tokens * ((model.QueryWidth / tensor) + (2 * model.KeyValueWidthPerRank(plan.TensorParallelism, plan.RanksPerChip))) * 2),
            Bytes.FromCount(tokens * model.ValueWidth / tensor * 2));
    }
}
