using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// What the backward pass gathers again under sequence parallelism. A column-parallel multiply after a norm gathers its
/// sequence-parallel input in the forward pass but keeps only the local shard, and gathers it again for its weight
/// gradient (Korthikanti et al. 2022, section 4.2.2; Transformer Engine's <c>ln_out_needs_gather</c>).
/// </summary>
/// <remarks>
/// Megatron and Transformer Engine start that gather beside the input-gradient multiply. Korthikanti et al.'s Table 4
/// measures the backward pass of their 22B layer 0.1 ms faster with sequence parallelism (11.9 to 11.8 ms) where its
/// norms and dropouts shrink eightfold, so the model charges the gathers like the layer's other tensor-parallel
/// collectives: exposed, unless the plan overlaps tensor-parallel communication (then within the projections' cover).
/// One measurement cannot tell the gather's own time from its contention with the multiply beside it.
/// </remarks>
internal static class SequenceParallelRegather
{
    /// <summary>
    /// The whole-sequence tensors one layer's backward pass gathers again: attention's first multiplies' input (the
    /// hidden state, or under latent attention the query and key-value latents the up-projections take), and a dense
    /// layer's first feed-forward input or an expert layer's shared expert's; none without sequence parallelism.
    /// Kept as the framework keeps the multiplies' inputs (<see cref="MemoryModel.SavedInputBytes"/>).
    /// </summary>
    public static Regathered Tensors(ModelArchitecture model, TrainingJob job, ParallelPlan plan, SavedMultiplyInputs savedInputs, bool expertLayer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.SequenceParallelism || plan.TensorParallelism == 1)
        {
            return default;
        }

        var bytesPerToken = LayerKernels.Tokens(job, plan) * MemoryModel.SavedInputBytes(job, savedInputs);
        double attention = model.LatentAttention is { } latent
            ? (latent.QueryRank > 0 ? latent.QueryRank : model.HiddenSize) + latent.KeyValueRank
            : model.HiddenSize;
        var feedForward = !expertLayer || model.MixtureOfExperts is { Shared: > 0 };
        return new Regathered(Bytes.FromCount(bytesPerToken * attention), feedForward ? Bytes.FromCount(bytesPerToken * model.HiddenSize) : Bytes.Zero);
    }

    /// <summary>The time of gathering <paramref name="tensors"/> over the tensor-parallel group, one all-gather each.</summary>
    public static Duration Time(CollectiveCost collectives, CommunicationGroup tensorGroup, Regathered tensors)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        return collectives.Time(CollectiveKind.AllGather, tensorGroup, tensors.Attention) + collectives.Time(CollectiveKind.AllGather, tensorGroup, tensors.FeedForward);
    }
}

/// <summary>
/// The tensors one layer's backward pass gathers again under sequence parallelism (<see cref="SequenceParallelRegather"/>),
/// a value, so that the search's millions of steps allocate nothing for them.
/// </summary>
/// <param name="Attention">Attention's first multiplies' input; zero without sequence parallelism.</param>
/// <param name="FeedForward">The first feed-forward's (or a shared expert's) input; zero where the layer has none.</param>
internal readonly record struct Regathered(Bytes Attention, Bytes FeedForward)
{
    /// <summary>Both tensors' bytes.</summary>
    public Bytes Total => Attention + FeedForward;
}
