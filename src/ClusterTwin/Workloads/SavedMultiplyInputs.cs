namespace ClusterTwin.Workloads;

/// <summary>
/// What a training framework keeps, for the backward pass, of the input of a multiply it runs in a low-precision format
/// (FP8, MXFP8, NVFP4): the weight gradient needs that input again.
/// </summary>
public enum SavedMultiplyInputs
{
    /// <summary>
    /// The input as it came, in the compute precision (BF16), cast again in the backward pass: torchao's
    /// <c>Float8Linear</c> (<c>ctx.save_for_backward(input_hp, weight_hp_t)</c> in <c>matmul_with_hp_or_float8_args</c>).
    /// </summary>
    HighPrecision,

    /// <summary>
    /// The cast copy, in the multiply's format with its scales: Transformer Engine's linear, layer-norm linear and grouped
    /// linear modules save the quantized input with column-wise usage for the weight-gradient multiply
    /// (<c>saved_inputmat = inputmat</c> after <c>update_usage(rowwise_usage=False)</c>), so the compute-precision copy
    /// is freed unless another module keeps it.
    /// </summary>
    Quantized,
}

/// <summary>The catalogue keys of <see cref="SavedMultiplyInputs"/>.</summary>
public static class SavedMultiplyInputsKeys
{
    /// <summary>Each kind by its key.</summary>
    public static KeyDictionary<SavedMultiplyInputs> All { get; } = new(("high-precision", SavedMultiplyInputs.HighPrecision), ("quantized", SavedMultiplyInputs.Quantized));
}
