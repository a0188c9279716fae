using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using Xunit;

namespace ClusterTwin.Tests.Calibration;

/// <summary>
/// The chip each family's matrix and memory curves describe, and how another chip reads them: at the same time at
/// peak (its operations or bytes scaled by the reference chip's BF16 peak or bandwidth over its own).
/// </summary>
public sealed class CurveReferenceTests
{
    private static Chip ChipOf(string id) => Repository.Catalog.Chips[id];

    [Fact]
    public void EveryFamily_ReadsItsCurvesAgainstTheChipTheyDescribe()
    {
        var efficiencies = Repository.Catalog.Efficiencies;
        Assert.Equal("nvidia-a100-sxm-80gb", efficiencies["nvidia-ampere"].CurvesChip);
        Assert.Equal("nvidia-h100-sxm", efficiencies["nvidia-hopper"].CurvesChip);
        // Families that carry A100's matrix and memory curves read them against A100.
        foreach (var family in new[] { "nvidia-blackwell", "nvidia-blackwell-ultra", "google-tpu-v5e", "aws-neuroncore-v2", "default" })
        {
            Assert.Equal("nvidia-a100-sxm-80gb", efficiencies[family].CurvesChip);
        }

        var a100 = ChipOf("nvidia-a100-sxm-80gb");
        Assert.Equal(a100.PeakRate(Precision.Bf16), efficiencies["nvidia-blackwell"].CurvesPeak);
        Assert.Equal(a100.MemoryBandwidth.Value, efficiencies["nvidia-blackwell"].CurvesBandwidth);
    }

    [Fact]
    public void AFasterChip_ReadsTheCurveAtTheOperationsTheReferenceDoesInItsTime()
    {
        var blackwell = Repository.Catalog.Efficiencies["nvidia-blackwell"];
        var b200 = ChipOf("nvidia-b200");
        var fp8 = b200.PeakRate(Precision.Fp8)!.Value;
        var a100Peak = ChipOf("nvidia-a100-sxm-80gb").PeakRate(Precision.Bf16)!.Value;
        Within.Relative(1e10 * a100Peak.OperationsPerSecond / fp8.OperationsPerSecond, blackwell.MatrixSizeOnCurves(1e10, fp8), 1e-12);
        // The reference chip at its own BF16 peak reads the curve as written.
        var hopper = Repository.Catalog.Efficiencies["nvidia-hopper"];
        var h100 = ChipOf("nvidia-h100-sxm");
        Assert.Equal(1e10, hopper.MatrixSizeOnCurves(1e10, h100.PeakRate(Precision.Bf16)!.Value));
        Assert.Equal(5e9, hopper.MatrixSizeOnCurves(1e10, h100.PeakRate(Precision.Bf16)!.Value * 2), 3);
        Assert.Equal(1e6, hopper.MemorySizeOnCurves(1e6, h100.MemoryBandwidth.Value));

        // So a small FP8 multiply on a B200 runs below the efficiency the curve gives its operations; a large one
        // reaches the same plateau.
        var cost = new KernelCost(fp8, b200.PeakRate(Precision.Bf16)!.Value, b200.MemoryBandwidth.Value, blackwell);
        var small = Flops.FromOperations(1e10);
        var asWritten = small / (fp8 * blackwell.Matrix.At(1e10));
        Assert.True(cost.Time(KernelKind.Matrix, small, Bytes.FromCount(1e3)) > asWritten * 1.2);
        var large = Flops.FromOperations(1e14);
        Within.Relative((large / (fp8 * blackwell.Matrix.At(1e14))).Seconds, cost.Time(KernelKind.Matrix, large, Bytes.FromCount(1e3)).Seconds, 1e-9);
    }

    [Fact]
    public void AFamilyWritingCurvesWithoutTheirChip_OrAChipWithoutCurves_IsAClearError()
    {
        var missing = CatalogEdits.LoadWithChange("efficiency/nvidia-ampere.yaml", "reference_chip: nvidia-a100-sxm-80gb", "");
        Assert.Contains(missing.Diagnostics, diagnostic => diagnostic.Field == "reference_chip" && diagnostic.Message.Contains("chip id", StringComparison.Ordinal));
        var unknown = CatalogEdits.LoadWithChange("efficiency/nvidia-ampere.yaml", "reference_chip: nvidia-a100-sxm-80gb", "reference_chip: nvidia-a100-pcie");
        Assert.Contains(unknown.Diagnostics, diagnostic => diagnostic.Field == "reference_chip" && diagnostic.Message.Contains("'nvidia-a100-pcie'", StringComparison.Ordinal));
        var stray = CatalogEdits.LoadWithChange("efficiency/google-tpu-v4.yaml", "carried_over_from: nvidia-ampere", "carried_over_from: nvidia-ampere\nreference_chip: google-tpu-v4");
        Assert.Contains(stray.Diagnostics, diagnostic => diagnostic.Field == "reference_chip" && diagnostic.Message.Contains("writes neither", StringComparison.Ordinal));
        var contradicting = CatalogEdits.LoadWithChange("efficiency/nvidia-hopper.yaml", "family: nvidia-hopper", "family: nvidia-hopper\nreference_chip: nvidia-h200-sxm");
        Assert.Contains(contradicting.Diagnostics, diagnostic => diagnostic.Field == "reference_chip" && diagnostic.Message.Contains("measured on ('nvidia-h100-sxm'", StringComparison.Ordinal));
    }
}
