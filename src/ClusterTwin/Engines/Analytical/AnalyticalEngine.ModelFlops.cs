using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>The model FLOPs a step counts (the Megatron convention), and the attention's share of them.</summary>
public static partial class AnalyticalEngine
{
    /// <summary>
    /// Model FLOPs of one step in the Megatron convention (Narayanan et al. 2021, eq. 3, generalized to grouped-query
    /// attention and SwiGLU): forward plus backward is three forward passes, attention is counted over the full
    /// sequence, and recompute is not counted. With <paramref name="causalAttention"/>, attention counts only the causal
    /// half of the score and value products, as NeMo's and Megatron-Bridge's formulas do since 2025. Multi-token
    /// prediction modules the job trains count like the layer and head they run. A local-attention layer's query counts
    /// the keys its window lets it see (<see cref="LocalAttention"/>).
    /// </summary>
    public static Flops ModelFlops(ModelArchitecture model, TrainingJob job, bool causalAttention = false)
    {
        var (perTokenForward, _) = ForwardFlopsPerToken(model, job, causalAttention);
        return Flops.FromOperations(3 * perTokenForward * job.TokensPerStep);
    }

    /// <summary>
    /// The share of <see cref="ModelFlops"/> that the attention's score and value products take: where it is small, a
    /// run's time says little about the attention kernel.
    /// </summary>
    public static double AttentionShare(ModelArchitecture model, TrainingJob job)
    {
        var (perTokenForward, attention) = ForwardFlopsPerToken(model, job, causalAttention: false);
        return attention / perTokenForward;
    }

    /// <summary>One token's forward FLOPs (<see cref="ModelFlops"/>) and the attention products' part of them.</summary>
    private static (double Total, double Attention) ForwardFlopsPerToken(ModelArchitecture model, TrainingJob job, bool causalAttention)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        var attention = 2.0 * job.SequenceLength * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize) * (causalAttention ? 0.5 : 1);
        var head = 2.0 * model.HiddenSize * model.VocabularySize;
        var predictionModules = job.MultiTokenPredictionDepth(model);
        var prediction = predictionModules *
                         ((2 * model.ActiveMatrixParameters(model.MultiTokenPredictionUsesExperts)) + attention + (4.0 * model.HiddenSize * model.HiddenSize) + head);
        var total = (model.DenseLayerCount * ((2 * model.ActiveMatrixParameters(expertLayer: false)) + attention)) +
                    (model.ExpertLayerCount * ((2 * model.ActiveMatrixParameters(expertLayer: true)) + attention)) +
                    head + prediction;
        // A local layer's query sees the window (or, causally, its share of the window's pairs) instead of the sequence.
        var localSaving = model.LocalAttention is { } local
            ? model.LocalAttentionLayerCount * (attention - (2.0 * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize) *
                (causalAttention ? local.CausalPairs(job.SequenceLength) / job.SequenceLength : local.KeysSeen(job.SequenceLength))))
            : 0;
        return (total - localSaving, (attention * (model.Layers + predictionModules)) - localSaving);
    }
}
