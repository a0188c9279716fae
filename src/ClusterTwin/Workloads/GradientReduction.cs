namespace ClusterTwin.Workloads;

/// <summary>The precision data-parallel collectives reduce gradients in: what each gradient costs on the wire.</summary>
public enum GradientReduction
{
    /// <summary>
    /// FP32: Megatron-Core's default under BF16 ("bfloat16 requires gradient accumulation and all-reduce to be done in
    /// fp32", its <c>accumulate_allreduce_grads_in_fp32</c>), and PyTorch FSDP's with <c>reduce_dtype=float32</c>. (Under
    /// FP16 Megatron-Core reduces in FP16 by default; a job says <see cref="Bf16"/> for the same two bytes.)
    /// </summary>
    Fp32,

    /// <summary>
    /// BF16: Megatron-Core's <c>--grad-reduce-in-bf16</c> (which the Megatron-FSDP user guide recommends), and PyTorch
    /// FSDP's with <c>reduce_dtype=bfloat16</c> (Composer's <c>mixed_precision: PURE</c>). Half the bytes of FP32.
    /// </summary>
    Bf16,
}

/// <summary>The keys and sizes of <see cref="GradientReduction"/>.</summary>
public static class GradientReductionKeys
{
    /// <summary>Each precision by its key in catalogue and scenario files.</summary>
    public static KeyDictionary<GradientReduction> All { get; } = new(("fp32", GradientReduction.Fp32), ("bf16", GradientReduction.Bf16));

    /// <summary>The key of <paramref name="reduction"/>.</summary>
    public static string Key(GradientReduction reduction) => All.KeyOf(reduction);

    /// <summary>Its name in reports ("BF16").</summary>
    public static string Name(GradientReduction reduction) => Key(reduction).ToUpperInvariant();

    /// <summary>Bytes each gradient element takes in the reduction.</summary>
    public static double BytesPerElement(this GradientReduction reduction) => reduction == GradientReduction.Bf16 ? 2 : 4;
}
