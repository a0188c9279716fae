namespace ClusterTwin.Hardware;

/// <summary>A numeric format of the matrix units.</summary>
public enum Precision
{
    /// <summary>IEEE single precision.</summary>
    Fp32,

    /// <summary>NVIDIA TensorFloat-32 (and equivalents).</summary>
    Tf32,

    /// <summary>bfloat16 (and FP16 where the rates are equal).</summary>
    Bf16,

    /// <summary>8-bit floating point: FP8 (E4M3/E5M2), AWS cFP8, or MXFP8 on chips that have it.</summary>
    Fp8,

    /// <summary>4-bit floating point: NVFP4 or MXFP4.</summary>
    Fp4,
}

/// <summary>Sizes of the precisions.</summary>
public static class PrecisionSizes
{
    /// <summary>Bytes per element stored in this precision.</summary>
    public static double BytesPerElement(this Precision precision) => precision switch
    {
        Precision.Fp32 or Precision.Tf32 => 4,
        Precision.Bf16 => 2,
        Precision.Fp8 => 1,
        Precision.Fp4 => 0.5,
        _ => throw new ArgumentOutOfRangeException(nameof(precision)),
    };

    /// <summary>The key used in catalogue and scenario files ("bf16").</summary>
    public static string Key(this Precision precision) => precision.ToString().ToLowerInvariant();
}

/// <summary>How the scale factors of a low-precision format are laid out, which decides who can run it and what it costs.</summary>
public enum ScaleFormat
{
    /// <summary>No scaling: BF16 and wider.</summary>
    None,

    /// <summary>One FP32 scale per tensor (Transformer Engine's delayed or current scaling): any chip with the FP8 rate.</summary>
    PerTensor,

    /// <summary>One FP32 scale per 128 elements (DeepSeek-V3's block-wise FP8), applied in software: any chip with the FP8 rate.</summary>
    Block128,

    /// <summary>OCP microscaling: one 8-bit power-of-two scale per 32 elements, in the tensor cores (MXFP8, MXFP4).</summary>
    Microscaling,

    /// <summary>NVIDIA's NVFP4: one FP8 scale per 16 elements and one FP32 scale per tensor.</summary>
    NvFp4,
}

/// <summary>A matrix-multiply number format: the precision the peak rate is quoted at and how it is scaled.</summary>
/// <param name="Key">Its name in scenario files (<c>mxfp8</c>).</param>
/// <param name="Precision">The precision whose peak rate it runs at.</param>
/// <param name="Scaling">Its scale layout.</param>
public sealed record NumberFormat(string Key, Precision Precision, ScaleFormat Scaling)
{
    /// <summary>BF16 (and FP16, at the same rate and size).</summary>
    public static NumberFormat Bf16 { get; } = new("bf16", Precision.Bf16, ScaleFormat.None);

    /// <summary>Every format a scenario may name.</summary>
    public static IReadOnlyDictionary<string, NumberFormat> All { get; } = new Dictionary<string, NumberFormat>(StringComparer.Ordinal)
    {
        ["bf16"] = Bf16,
        ["fp16"] = Bf16 with { Key = "fp16" },
        ["fp8"] = new("fp8", Precision.Fp8, ScaleFormat.PerTensor),
        ["fp8-block"] = new("fp8-block", Precision.Fp8, ScaleFormat.Block128),
        ["mxfp8"] = new("mxfp8", Precision.Fp8, ScaleFormat.Microscaling),
        ["mxfp4"] = new("mxfp4", Precision.Fp4, ScaleFormat.Microscaling),
        ["nvfp4"] = new("nvfp4", Precision.Fp4, ScaleFormat.NvFp4),
    };

    /// <summary>Bytes of scale per element: 4/128 for block-wise FP8, 1/32 for microscaling, 1/16 for NVFP4.</summary>
    public double ScaleBytesPerElement => Scaling switch
    {
        ScaleFormat.Block128 => 4.0 / 128,
        ScaleFormat.Microscaling => 1.0 / 32,
        ScaleFormat.NvFp4 => 1.0 / 16,
        _ => 0,
    };

    /// <summary>Bytes per element of a matrix in this format, its scales included.</summary>
    public double BytesPerElement => Precision.BytesPerElement() + ScaleBytesPerElement;

    /// <summary>Whether a chip must list the format among its hardware-scaled formats to run it (microscaling and NVFP4 are tensor-core features).</summary>
    public bool NeedsHardwareScaling => Scaling is ScaleFormat.Microscaling or ScaleFormat.NvFp4;
}
