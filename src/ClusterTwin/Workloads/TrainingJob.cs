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
    private readonly NumberFormat? format;

    /// <summary>
    /// The matrix multiplies' number format, scales included: by default BF16, or per-tensor-scaled FP8 for
    /// <see cref="Precision.Fp8"/> and NVFP4 for <see cref="Precision.Fp4"/>. Setting it sets <see cref="Precision"/> too;
    /// a format whose precision a later <c>with { Precision = ... }</c> changed gives way to that precision's default.
    /// </summary>
    public NumberFormat Format
    {
        get => format is { } set && set.Precision == Precision ? set : Precision switch
        {
            Precision.Fp8 => NumberFormat.All["fp8"],
            Precision.Fp4 => NumberFormat.All["nvfp4"],
            _ => NumberFormat.Bf16,
        };
        init
        {
            ArgumentNullException.ThrowIfNull(value);
            format = value;
            Precision = value.Precision;
        }
    }

    /// <summary>
    /// Whether the model's multi-token prediction modules are trained (the default where the model has them);
    /// false trains the main model alone, as Megatron-Bridge's DeepSeek-V3 benchmarks ran ("w/o MTP").
    /// </summary>
    public bool MultiTokenPrediction { get; init; } = true;

    /// <summary>
    /// The expert capacity factor, or null for dropless routing (every token reaches its experts, however uneven the
    /// load). With a factor <c>c</c>, each expert takes at most <c>c</c> times its average share of the tokens, drops the
    /// rest, and pads its input to that capacity (GShard; Switch Transformer; Megatron-Core's
    /// <c>moe_expert_capacity_factor</c> with <c>moe_pad_expert_input_to_capacity</c>), so every expert computes and
    /// receives exactly <c>c</c> times the average.
    /// </summary>
    public double? ExpertCapacityFactor { get; init; }

    /// <summary>
    /// Whether an expert layer permutes its tokens with fused kernels (Megatron-Core's <c>moe_permute_fusion</c>, which
    /// the performance recipes set; Transformer Engine's moe_permute), at the traffic the engine counts. False runs the
    /// unfused PyTorch path, which takes the training framework's <see cref="TrainingFramework.UnfusedTokenRouting"/>
    /// times as long.
    /// </summary>
    public bool FusedTokenPermutation { get; init; } = true;

    /// <summary>What of each layer runs as CUDA graphs; <see cref="CudaGraphs.WholeLayers"/> launches nothing per expert.</summary>
    public CudaGraphs CudaGraphs { get; init; }

    /// <summary>
    /// Whether the router is overridden to spread tokens evenly at random (Megatron-Core's
    /// <c>--moe-router-force-load-balancing</c>, which benchmarks use): the model's routing skew then does not apply,
    /// only the statistical spread of random routing does.
    /// </summary>
    public bool ForcedLoadBalance { get; init; }

    /// <summary>
    /// The precision the data-parallel collectives reduce gradients in, where the run sets it (Megatron-Core's
    /// <c>--grad-reduce-in-bf16</c>); null for the training framework's own (<see cref="TrainingFramework.GradientReduction"/>).
    /// Megatron-Core keeps its gradient buffer in the same precision; a framework that keeps only the FP32 weight shard
    /// keeps FP32 gradients whatever it reduces them in.
    /// </summary>
    public GradientReduction? GradientReduction { get; init; }

    /// <summary>Multi-token prediction modules <paramref name="model"/> trains in this job.</summary>
    public int MultiTokenPredictionDepth(ModelArchitecture model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return MultiTokenPrediction ? model.MultiTokenPredictionDepth : 0;
    }

    /// <summary>Bytes per element of a matrix operand in the job's format, scales included.</summary>
    public double MatrixBytesPerElement => Format.BytesPerElement;

    /// <summary>Whether each multiply's inputs are cast to a narrower format first (FP8 and narrower, with their scales).</summary>
    public bool CastsMultiplyInputs => MatrixBytesPerElement < 2;

    /// <summary>Tokens per optimizer step.</summary>
    public double TokensPerStep => (double)SequenceLength * GlobalBatchSize;
}
