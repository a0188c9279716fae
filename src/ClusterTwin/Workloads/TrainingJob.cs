using ClusterTwin.Hardware;

namespace ClusterTwin.Workloads;

/// <summary>How attention is computed.</summary>
public enum AttentionKernel
{
    /// <summary>A fused, tiled kernel that never writes the score matrix (FlashAttention); causal masking skips half the work.</summary>
    Flash,

    /// <summary>Batched matrix multiplies with the full score matrix written to memory, then softmax and dropout (Megatron 2022).</summary>
    Standard,
}

/// <summary>What is trained and how much.</summary>
/// <param name="SequenceLength">Tokens per sequence.</param>
/// <param name="GlobalBatchSize">Sequences per optimizer step.</param>
/// <param name="TokensToTrain">Tokens of the whole run, for the time to train; null when not asked.</param>
/// <param name="Precision">Precision of the matrix multiplies (BF16 or FP8); master weights stay FP32.</param>
/// <param name="Attention">The attention kernel.</param>
/// <param name="Dropout">Whether dropout layers run (their masks cost memory and traffic).</param>
public sealed record TrainingJob(int SequenceLength, int GlobalBatchSize, double? TokensToTrain, Precision Precision, AttentionKernel Attention, bool Dropout = false)
{
    /// <summary>Tokens per optimizer step.</summary>
    public double TokensPerStep => (double)SequenceLength * GlobalBatchSize;
}
