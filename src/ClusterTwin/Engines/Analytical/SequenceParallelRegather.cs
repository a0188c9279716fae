using System.Collections.Immutable;
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
    public static ImmutableArray<Bytes> Tensors(ModelArchitecture model, TrainingJob job, ParallelPlan plan, SavedMultiplyInputs savedInputs, bool expertLayer)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        if (!plan.SequenceParallelism || plan.TensorParallelism == 1)
        {
            return [];
        }

        var bytesPerToken = LayerKernels.Tokens(job, plan) * MemoryModel.SavedInputBytes(job, savedInputs);
        double attention = model.LatentAttention is { } latent
            ? (latent.QueryRank > 0 ? latent.QueryRank : model.HiddenSize) + latent.KeyValueRank
            : model.HiddenSize;
        var feedForward = !expertLayer || model.MixtureOfExperts is { Shared: > 0 };
        return feedForward
            ? [Bytes.FromCount(bytesPerToken * attention), Bytes.FromCount(bytesPerToken * model.HiddenSize)]
            : [Bytes.FromCount(bytesPerToken * attention)];
    }

    /// <summary>The time of gathering <paramref name="tensors"/> over the tensor-parallel group.</summary>
    public static Duration Time(CollectiveCost collectives, CommunicationGroup tensorGroup, ImmutableArray<Bytes> tensors)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        var time = Duration.Zero;
        foreach (var tensor in tensors)
        {
            time += collectives.Time(CollectiveKind.AllGather, tensorGroup, tensor);
        }

        return time;
    }
}
