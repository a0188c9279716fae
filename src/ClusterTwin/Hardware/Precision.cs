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
