using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;
using Xunit;

namespace ClusterTwin.Tests.Calibration;

/// <summary>
/// Measured attention curves as the engine reads them: a ring's steps, the levels on top, the extension below the
/// measured sizes, the carry-over between families; and every family's written fit, reproducible by its procedure.
/// </summary>
public sealed class MeasuredAttentionTests
{
    private static readonly EfficiencyCurve Causal = new([(1e10, 0.3), (1e12, 0.6)]);
    private static readonly EfficiencyCurve CausalBackward = new([(1e10, 0.2), (1e12, 0.5)]);
    private static readonly EfficiencyCurve Unmasked = new([(1e11, 0.66), (1e12, 0.68)]);
    private static readonly EfficiencyCurve UnmaskedBackward = new([(1e11, 0.55), (1e12, 0.57)]);

    private static ChipEfficiency Measured(double attentionLevel) =>
        new("test", EfficiencyCurve.Constant(0.7), Causal, EfficiencyCurve.Constant(0.9), EfficiencyCurve.Constant(0.8), "test",
            EfficiencyFit.None with { AttentionScale = attentionLevel })
        {
            MeasuredAttention = new(CausalBackward, Unmasked, UnmaskedBackward),
        };

    [Fact]
    public void ARing_RunsOneCausalStep_AndItsOtherStepsUnmasked_WithTheSameWorkInAll()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        foreach (var context in new[] { 2, 4, 8 })
        {
            var plan = scenario.Plan with { ContextParallelism = context, ContextCommunication = ContextCommunication.Ring };
            var attention = LayerKernels.Forward(scenario.Model, scenario.Job, plan).Where(kernel => kernel.Kind == KernelKind.FusedAttention).ToArray();
            Assert.Equal(2, attention.Length);
            var (first, later) = (Assert.Single(attention, kernel => !kernel.Unmasked), Assert.Single(attention, kernel => kernel.Unmasked));
            Assert.Equal(1, first.Repeats);
            Assert.Equal(context - 1, later.Repeats);
            Assert.Equal(first.Work, later.Work);
            Assert.Equal(first.Region, later.Region);

            // Together, the rank's causal share of the attention: 1/c of it per step, c steps.
            var noContext = LayerKernels.Forward(scenario.Model, scenario.Job, scenario.Plan).Single(kernel => kernel.Kind == KernelKind.FusedAttention);
            Within.Relative(noContext.Work.Operations / context, (first.TotalWork + later.TotalWork).Operations, 1e-12);
        }
    }

    [Fact]
    public void TheAttentionLevel_ScalesEveryMeasuredAttentionCurve()
    {
        var (one, half) = (Measured(1), Measured(0.5));
        foreach (var size in new[] { 1e11, 5e11, 1e12 })
        {
            Within.Relative(0.5 * one.AttentionForward(unmasked: false).At(size), half.AttentionForward(unmasked: false).At(size), 1e-12);
            Within.Relative(0.5 * one.AttentionBackward(unmasked: false)!.At(size), half.AttentionBackward(unmasked: false)!.At(size), 1e-12);
            Within.Relative(0.5 * one.AttentionForward(unmasked: true).At(size), half.AttentionForward(unmasked: true).At(size), 1e-12);
            Within.Relative(0.5 * one.AttentionBackward(unmasked: true)!.At(size), half.AttentionBackward(unmasked: true)!.At(size), 1e-12);
        }

        // A refit keeps the measured curves.
        var refitted = half.WithFit(half.Fit with { AttentionScale = 0.25 });
        Within.Relative(0.25 * UnmaskedBackward.At(1e12), refitted.AttentionBackward(unmasked: true)!.At(1e12), 1e-12);
    }

    [Fact]
    public void BelowItsFirstMeasuredSize_AnUnmaskedCurve_FallsAsTheCausalOneDoes()
    {
        var efficiency = Measured(1);
        // At 10 GFLOP the causal curve is at half its 100 GFLOP value (0.3 against 0.6 x log-interpolated 0.45): the
        // unmasked one, measured from 100 GFLOP up, falls in the same ratio instead of staying at 0.66.
        var ratio = Causal.At(1e10) / Causal.At(1e11);
        Within.Relative(0.66 * ratio, efficiency.AttentionForward(unmasked: true).At(1e10), 1e-12);
        Within.Relative(0.55 * CausalBackward.At(1e10) / CausalBackward.At(1e11), efficiency.AttentionBackward(unmasked: true)!.At(1e10), 1e-12);
        Assert.Equal(0.66, efficiency.AttentionForward(unmasked: true).At(1e11));
    }

    [Fact]
    public void AFamilyCarryingAnothersAttention_TakesItsMeasuredCurvesWithIt_ButNotBesideItsOwn()
    {
        using var catalog = TemporaryFolder.WithCatalogCopy();
        catalog.Write("efficiency/test-measured.yaml", """
            family: test-measured
            provenance: test
            reference_chip: nvidia-h100-sxm
            matrix: {1 GFLOP: 0.6}
            attention: {1 GFLOP: 0.5}
            attention_backward: {1 GFLOP: 0.4}
            memory: {1 MB: 0.8}
            scale_up_collective: {1 MB: 0.7}
            """);
        catalog.Write("efficiency/test-carried.yaml", """
            family: test-carried
            provenance: test
            carried_over_from: test-measured
            band_widening: 2
            """);
        catalog.Write("efficiency/test-own-attention.yaml", """
            family: test-own-attention
            provenance: test
            carried_over_from: test-measured
            band_widening: 2
            attention: {1 GFLOP: 0.45}
            """);
        var efficiencies = CatalogLoader.Load(catalog.Path).Efficiencies;
        Assert.Equal(0.4, efficiencies["test-carried"].AttentionBackward(unmasked: false)!.At(1e9));
        Assert.Null(efficiencies["test-own-attention"].AttentionBackward(unmasked: false));
        // Its own attention curve, and levels of 1 rather than the donor's, which belong to the donor's curves.
        Assert.Equal(0.45, efficiencies["test-own-attention"].Attention.At(1e9));
    }

    public static TheoryData<string> FittedFamilies => new(Repository.Catalog.Efficiencies.Values.Where(efficiency => efficiency.HasOwnFit && efficiency.Fit.Cases > 0).Select(efficiency => efficiency.Family));

    [Theory]
    [MemberData(nameof(FittedFamilies))]
    public void EveryFamilysWrittenFit_IsWhatItsProcedureGivesNow(string family)
    {
        // A fit left stale by a change to the engine, the curves or the procedure fails here, not in a page.
        var efficiency = Repository.Catalog.Efficiencies[family];
        var fit = EfficiencyCalibration.Fit(efficiency, Repository.CalibrationCases, efficiency.Fit.HeldOut, efficiency.Fit.Procedure).Fit;
        // To the three decimals the file writes.
        Assert.Equal(efficiency.Fit.MatrixScale, fit.MatrixScale, 0.0006);
        Assert.Equal(efficiency.Fit.AttentionScale, fit.AttentionScale, 0.0006);
        Assert.Equal(efficiency.Fit.Cases, fit.Cases);
    }
}
