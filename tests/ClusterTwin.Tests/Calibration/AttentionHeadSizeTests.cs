using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using Xunit;

namespace ClusterTwin.Tests.Calibration;

/// <summary>Fused attention at head sizes other than the 128 its curves were measured at: measured, read and applied.</summary>
public sealed class AttentionHeadSizeTests
{
    private const string HeadSizeMeasurements = "nvidia-h100-sxm-head-sizes-2026-11-26.json";

    private static readonly AttentionHeadSizes Factors = new(
    [
        new(new(64, 64), 0.7, 0.8, 3),
        new(new(96, 96), 0.8, 0.9, 3),
        new(new(192, 128), 0.95, 0.85, 3),
        new(new(192, 192), 1.05, 0.6, 3),
    ]);

    [Fact]
    public void AMeasuredSize_TakesItsOwnFactors_AndTheReferenceOnesAreOne()
    {
        Assert.Equal((0.95, 0.85), Factors.At(new(192, 128)));
        Assert.Equal((1.05, 0.6), Factors.At(new(192, 192)));
        Assert.Equal((1.0, 1.0), Factors.At(AttentionHeadSize.Reference));
        Assert.Equal((1.0, 1.0), AttentionHeadSizes.None.At(new(64, 64)));
    }

    [Fact]
    public void AnUnmeasuredSize_IsInterpolatedBetweenTheSquareSizes_WithOneAt128_AndHeldBeyondTheEnds()
    {
        // 112 is a quarter of the way from 96 (0.8, 0.9) to 128 (1, 1); 160 halfway from 128 to 192 (1.05, 0.6), not
        // towards latent attention's 192/128, which is not a square size.
        var (forward, backward) = Factors.At(new(112, 112));
        Assert.Equal(0.9, forward, 12);
        Assert.Equal(0.95, backward, 12);
        (forward, backward) = Factors.At(new(160, 160));
        Assert.Equal(1.025, forward, 12);
        Assert.Equal(0.8, backward, 12);
        Assert.Equal((0.7, 0.8), Factors.At(new(32, 32)));
        Assert.Equal((1.05, 0.6), Factors.At(new(256, 256)));
        // An unmeasured pair reads at its query-key width.
        Assert.Equal(Factors.At(new(96, 96)), Factors.At(new(96, 64)));
    }

    [Fact]
    public void AFusedAttentionKernel_RunsAtItsHeadSizesFactors_OnBothPasses()
    {
        var chip = Repository.Catalog.Chips["nvidia-h100-sxm"];
        var bf16 = chip.PeakRate(Precision.Bf16)!.Value;
        var efficiency = Repository.Catalog.Efficiencies["nvidia-hopper"] with { HeadSizes = Factors };
        var cost = new KernelCost(bf16, bf16, chip.MemoryBandwidth.Value, efficiency);
        // A large kernel with little traffic: compute-bound, so its time is its work over the efficiency.
        var kernel = new Kernel("attention (fused)", KernelKind.FusedAttention, KernelRegion.AttentionCore, Flops.FromOperations(1e12), Bytes.FromCount(1e6), LayerKernels.FusedAttentionBackwardFactor);
        var reference = cost.Times(kernel);
        var narrow = cost.Times(kernel with { HeadSize = new(64, 64) });
        Assert.Equal(1 / 0.7, narrow.Forward / reference.Forward, 9);
        Assert.Equal(1 / 0.8, narrow.Backward / reference.Backward, 9);
        // A family without head-size measurements runs every head size at its curves.
        var plain = new KernelCost(bf16, bf16, chip.MemoryBandwidth.Value, efficiency with { HeadSizes = AttentionHeadSizes.None });
        Assert.Equal(plain.Times(kernel), plain.Times(kernel with { HeadSize = new(64, 64) }));
    }

    [Fact]
    public void EveryFusedAttentionKernel_CarriesItsModelsHeadSizes_RingStepsIncluded()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var latent = Repository.Catalog.Models["deepseek-v3"];
        foreach (var (model, expected) in new[] { (scenario.Model, new AttentionHeadSize(128, 128)), (latent, new AttentionHeadSize(192, 128)) })
        {
            foreach (var context in new[] { 1, 2 })
            {
                var plan = scenario.Plan with { ContextParallelism = context, ContextCommunication = ContextCommunication.Ring };
                var attention = LayerKernels.Forward(model, scenario.Job, plan).Where(kernel => kernel.Kind == KernelKind.FusedAttention).ToArray();
                Assert.NotEmpty(attention);
                Assert.All(attention, kernel => Assert.Equal(expected, kernel.HeadSize));
            }
        }
    }

    [Fact]
    public void AMeasurementRow_WithAnImpossibleHeadSize_IsAnError_AndAFileOfAttentionAlone_Reads()
    {
        using var folder = new TemporaryFolder();
        static string File(string attention) => $$"""
            {"device": {"name": "GPU"}, "measured_utc": "2026-11-26T00:00:00Z",
             "attention": [{{attention}}]}
            """;
        const string Row = """{"backend": "CUDNN_ATTENTION", "causal": true, "sequence": 4096, "head_size": 64, "forward_operations": 1e12, "forward_seconds": 0.002, "backward_seconds": 0.005}""";
        var read = KernelMeasurements.Read(folder.Write("good.json", File(Row)));
        Assert.Equal(new AttentionHeadSize(64, 64), Assert.Single(read.Attention).HeadSize);
        Assert.Empty(read.Matrix);
        var error = Assert.Throws<InputException>(() => KernelMeasurements.Read(folder.Write("bad.json", File(Row.Replace("\"head_size\": 64", "\"head_size\": -64", StringComparison.Ordinal)))));
        Assert.Contains("attention[0].head_size: '-64': expected a positive whole number", error.Message, StringComparison.Ordinal);
        var empty = Assert.Throws<InputException>(() => KernelMeasurements.Read(folder.Write("empty.json", File(string.Empty))));
        Assert.Contains("no timed rows", empty.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheHopperFactors_AreTheOnesDerivedFromTheCommittedH100Measurements()
    {
        var measurements = KernelMeasurements.Read(Repository.Path("measurements", HeadSizeMeasurements));
        var derived = AttentionHeadSizeFit.Fit(measurements, KernelCurveFit.DefaultAttentionBackend, "test");
        var written = Repository.Catalog.Efficiencies["nvidia-hopper"].HeadSizes;
        Assert.Equal(derived.Factors.ToArray(), written.Factors.ToArray());
        Assert.Equal(measurements.Device, written.MeasuredOn);
        // What the measurement shows: on an H100 under cuDNN, head size 64 runs slower per operation than 128 in both
        // passes, and 192's backward slower still; latent attention's 192/128 loses less than 192 in its backward.
        Assert.InRange(written.At(new(64, 64)).Forward, 0.6, 0.85);
        Assert.InRange(written.At(new(192, 192)).Backward, 0.5, 0.8);
        Assert.True(written.At(new(192, 128)).Backward > written.At(new(192, 192)).Backward);
        // Only Hopper measured them; the other families run every head size at their curves.
        Assert.Empty(Repository.Catalog.Efficiencies["nvidia-blackwell"].HeadSizes.Factors);
        Assert.Empty(Repository.Catalog.Efficiencies["aws-neuroncore-v2"].HeadSizes.Factors);
    }

    [Fact]
    public void TheFit_IsTheMedianRatioToHeadSize128_OnTheSameSequences()
    {
        static AttentionMeasurement Row(int head, int sequence, double forwardRate, double backwardRate) =>
            new("CUDNN_ATTENTION", Flops.FromOperations(1e12), Duration.FromSeconds(1e12 / forwardRate), Duration.FromSeconds(1e12 / backwardRate))
            {
                HeadSize = new(head, head), Sequence = sequence,
            };
        var measurements = new KernelMeasurements("test GPU", "2026-11-26",
            [],
            [
                Row(128, 2048, 500e12, 400e12), Row(128, 4096, 600e12, 500e12), Row(128, 8192, 650e12, 550e12),
                Row(64, 2048, 350e12, 300e12), Row(64, 4096, 480e12, 400e12), Row(64, 8192, 455e12, 440e12),
                // No 128 timing at this length: nothing to compare it with, so it is left out.
                Row(64, 16384, 10e12, 10e12),
            ],
            []);
        var factor = Assert.Single(AttentionHeadSizeFit.Fit(measurements, "CUDNN_ATTENTION", "test").Factors);
        Assert.Equal(new AttentionHeadSize(64, 64), factor.HeadSize);
        Assert.Equal(0.7, factor.Forward, 12);   // median of 0.7, 0.8, 0.7
        Assert.Equal(0.8, factor.Backward, 12);  // median of 0.75, 0.8, 0.8
        Assert.Equal(3, factor.Samples);

        var noReference = measurements with { Attention = [.. measurements.Attention.Where(row => row.HeadSize != AttentionHeadSize.Reference)] };
        var error = Assert.Throws<InputException>(() => AttentionHeadSizeFit.Fit(noReference, "CUDNN_ATTENTION", "test"));
        Assert.Contains("no causal 'CUDNN_ATTENTION' attention at head size 128", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrateHeadSizes_WritesTheBlock_ThatTheCatalogueReadsBack()
    {
        using var catalog = TemporaryFolder.WithCatalogCopy();
        var hopper = Path.Combine(catalog.Path, "efficiency", "nvidia-hopper.yaml");
        var original = File.ReadAllText(hopper);
        // Without one of its factors, which the command writes back.
        File.WriteAllLines(hopper, original.Split('\n').Where(line => !line.Contains("query_key: 256,", StringComparison.Ordinal)).SkipLast(1));
        var outcome = CliRunner.Run("calibrate", "--head-sizes", Repository.Path("measurements", HeadSizeMeasurements), "--chip", "nvidia-h100-sxm", "--catalog", catalog.Path);
        Assert.Equal(0, outcome.ExitCode);
        var narrow = Repository.Catalog.Efficiencies["nvidia-hopper"].HeadSizes.Factors.Single(factor => factor.HeadSize == new AttentionHeadSize(64, 64));
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"64: forward {narrow.Forward:0.###}, backward {narrow.Backward:0.###}"), outcome.Output, StringComparison.Ordinal);
        // The factors as committed again (the procedure names the file as given, here by its full path).
        static string[] FactorLines(string text) => [.. text.Split('\n').Where(line => line.Contains("query_key:", StringComparison.Ordinal))];
        Assert.Equal(7, FactorLines(original).Length);
        Assert.Equal(FactorLines(original), FactorLines(File.ReadAllText(hopper)));
        Assert.Equal(0, CliRunner.Run("catalog", "list", "--catalog", catalog.Path).ExitCode);

        // Into a family that carries another's attention curve over, the factors have no curve to belong to.
        var refused = CliRunner.Run("calibrate", "--head-sizes", Repository.Path("measurements", HeadSizeMeasurements), "--chip", "aws-trainium1", "--catalog", catalog.Path);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("carries nvidia-ampere's attention curve over", refused.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void HeadSizeFactors_InAFamilyThatCarriesItsAttentionCurveOver_AreReported()
    {
        using var catalog = TemporaryFolder.WithCatalogCopy();
        var hopper = File.ReadAllLines(Path.Combine(catalog.Path, "efficiency", "nvidia-hopper.yaml"));
        var block = hopper.SkipWhile(line => !line.StartsWith("attention_head_sizes:", StringComparison.Ordinal))
            .TakeWhile((line, index) => index == 0 || line.StartsWith(' ')).ToArray();
        Assert.True(block.Length > 5);
        File.AppendAllLines(Path.Combine(catalog.Path, "efficiency", "aws-neuroncore-v2.yaml"), block);
        var error = Assert.Throws<InputException>(() => CatalogLoader.Load(catalog.Path));
        Assert.Contains("attention_head_sizes: is measured beside the family's own attention curve", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("- {query_key: 64, value: 64,", "- {query_key: 128, value: 128,", "head size 128 is the curves' own")]
    [InlineData("- {query_key: 80, value: 80,", "- {query_key: 64, value: 64,", "head size 64 is listed twice")]
    [InlineData("value: 64, forward: ", "value: 64, forward: 7", "forward")]
    [InlineData("  factors:", "  factor:", "attention_head_sizes.factors: expected a list")]
    public void AHeadSizeBlock_ThatIsWrong_IsReportedWithItsField(string find, string replace, string expected)
    {
        var error = CatalogEdits.LoadWithChange(Path.Combine("efficiency", "nvidia-hopper.yaml"), find, replace);
        Assert.Contains("attention_head_sizes", error.Message, StringComparison.Ordinal);
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }
}
