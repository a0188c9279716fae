using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>A training framework's fitted slowdown without recompute: where it applies, its fit, and the data it is fitted on.</summary>
public class NoRecomputeSlowdownTests
{
    private static readonly Lazy<ValidationCase[]> Supplementary = new(() =>
        [.. ValidationCaseLoader.LoadAll(Repository.Path("validation", "supplementary", "llm-foundry"), Repository.Catalog).Training]);

    private static ValidationCase Published(string id) => ValidationCaseLoader.Load(Repository.Path("validation", "cases", id + ".yaml"), Repository.Catalog);

    private static ValidationCase SupplementaryCase(string id) => Supplementary.Value.Single(item => item.Id == id);

    [Fact]
    public void TheSlowdown_StretchesTheKernels_OnlyWhereNothingIsRecomputed()
    {
        var scenario = Published("mpt-a100-13b-seq2048-8gpu").Scenario;
        Assert.Equal(RecomputePolicy.None, scenario.Plan.Recompute);
        var unslowed = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework with { NoRecomputeSlowdown = null } });
        var plain = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework with { NoRecomputeSlowdown = 1 } });
        var slowed = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework with { NoRecomputeSlowdown = 1.2 } });
        Assert.Equal(plain.StepTime, unslowed.StepTime);
        Assert.Equal(plain.Breakdown!.Compute.Seconds * 1.2, slowed.Breakdown!.Compute.Seconds, 9);
        Assert.True(slowed.StepTime > plain.StepTime * 1.15, $"{plain.StepTime} -> {slowed.StepTime}");
        Assert.Equal(plain.HardwareFlopsPerStep, slowed.HardwareFlopsPerStep);

        var recomputed = scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.Full } };
        Assert.Equal(
            AnalyticalEngine.SimulateStep(recomputed with { Framework = recomputed.Framework with { NoRecomputeSlowdown = 1 } }).StepTime,
            AnalyticalEngine.SimulateStep(recomputed with { Framework = recomputed.Framework with { NoRecomputeSlowdown = 1.2 } }).StepTime);
    }

    [Fact]
    public void SelectiveRecompute_PaysTheSlowdownToo_SoItIsNeverFasterThanNone()
    {
        // Selective recompute keeps all but a few activations: it cannot escape what keeping them costs.
        var scenario = Published("mpt-a100-13b-seq2048-8gpu").Scenario;
        var none = AnalyticalEngine.SimulateStep(scenario);
        var selective = AnalyticalEngine.SimulateStep(scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.Selective } });
        Assert.True(selective.StepTime >= none.StepTime, $"selective {selective.StepTime} against none {none.StepTime}");
    }

    [Fact]
    public void EachChipFamily_IsHeldOutByTheFactorTheOthersGive()
    {
        // A100 runs measured at 1.25, H100 runs at 1.10: each family's held-out factor is the other's.
        string[] a100 = ["llm-foundry-a100-1b-seq2048-8gpu-b448", "llm-foundry-a100-3b-seq1024-8gpu-b960"];
        string[] h100 = ["llm-foundry-h100-13b-seq2048-16gpu-b32", "llm-foundry-h100-1b-seq2048-8gpu-b112"];
        var framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"];
        ValidationCase Measured(string id, double truth)
        {
            var item = SupplementaryCase(id);
            return item with { Measured = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = framework with { NoRecomputeSlowdown = truth } })) };
        }

        var result = NoRecomputeCalibration.Fit(framework, [.. a100.Select(id => Measured(id, 1.25)), .. h100.Select(id => Measured(id, 1.10))], "test")!;
        Assert.All(a100, id => Assert.Equal(1.10, result.HeldOutSlowdown[id], 9));
        Assert.All(h100, id => Assert.Equal(1.25, result.HeldOutSlowdown[id], 9));
        Assert.Equal([1.25, 1.10], result.ByFamily.Select(family => Math.Round(family.Slowdown, 9)));
        Assert.All(result.ByFamily, family => Assert.True(family.HeldOutErrorPercent > 5, $"{family.Family}: {family.HeldOutErrorPercent}%"));
        Assert.True(result.Fit.HeldOutMeanAbsoluteErrorPercent > result.Fit.MeanAbsoluteErrorPercent);
    }

    [Fact]
    public void Validate_HoldsOutARunTheSlowdownWasFittedOn_ByTheOtherFamilysFactor()
    {
        // A supplementary run is outside the family levels, so only the slowdown's refit can hold it out.
        var catalog = Repository.Catalog;
        var framework = catalog.TrainingFrameworks["pytorch-fsdp"];
        var item = SupplementaryCase("llm-foundry-a100-1b-seq2048-8gpu-b448");
        Assert.Contains(item.Id, framework.NoRecomputeFit!.FittedOn);
        var published = ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), catalog).Training;
        // The run as validated says 1.4, so that its own prediction cannot pass for the held-out one.
        var validated = item with { Scenario = item.Scenario with { Framework = framework with { NoRecomputeSlowdown = 1.4 } } };
        var outcome = Assert.Single(CrossValidation.WithHeldOut(catalog, ValidationRun.Run([validated]), () => [.. published, .. Supplementary.Value]));
        var hopper = NoRecomputeCalibration.Fit(framework, [.. published, .. Supplementary.Value], "test")!.ByFamily.Single(family => family.Family == "nvidia-hopper").Slowdown;
        var expected = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = framework with { NoRecomputeSlowdown = hopper } }));
        Assert.Equal(expected, outcome.HeldOutPredicted!.Value, 9);
        Assert.NotEqual(outcome.Predicted, outcome.HeldOutPredicted!.Value, 3);

        // Without the cases the factor was fitted on, the run has no held-out prediction rather than a fitted one.
        var without = Assert.Single(CrossValidation.WithHeldOut(catalog, ValidationRun.Run([validated]), () => null));
        Assert.Null(without.HeldOutPredicted);
    }

    [Fact]
    public void TheFit_RecoversTheSlowdown_ThatMadeTheMeasurements()
    {
        string[] ids = ["llm-foundry-a100-1b-seq2048-8gpu-b448", "llm-foundry-a100-3b-seq1024-8gpu-b960", "llm-foundry-h100-13b-seq2048-16gpu-b32"];
        var framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"];
        var truth = framework with { NoRecomputeSlowdown = 1.25 };
        var cases = ids.Select(SupplementaryCase)
            .Select(item => item with { Measured = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = truth })) })
            .ToArray();

        var result = NoRecomputeCalibration.Fit(framework with { NoRecomputeSlowdown = 1 }, cases, "test")!;
        Assert.Equal(1.25, result.Slowdown, 9);
        Assert.True(result.Fit.MeanAbsoluteErrorPercent < 1e-6, $"{result.Fit.MeanAbsoluteErrorPercent}%");
        Assert.All(ids, id => Assert.Equal(1.25, result.HeldOutSlowdown[id], 9));
        Assert.Equal(["nvidia-ampere", "nvidia-hopper"], result.ByFamily.Select(family => family.Family));
    }

    [Fact]
    public void TheFit_LeavesOut_RecomputedRunsAndRunsWhereAttentionIsAQuarterOfTheWork()
    {
        var framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"];
        var fitted = NoRecomputeCalibration.CasesOf(framework, Supplementary.Value).Select(item => item.Id).ToHashSet();
        Assert.Contains("llm-foundry-a100-1b-seq2048-8gpu-b448", fitted);
        Assert.DoesNotContain("llm-foundry-a100-1b-seq65536-8gpu-b16", fitted);   // full recompute
        Assert.DoesNotContain("llm-foundry-a100-1b-seq32768-8gpu-b32", fitted);   // attention is most of the work
        var share = (Func<string, double>)(id => AnalyticalEngine.AttentionShare(SupplementaryCase(id).Scenario.Model, SupplementaryCase(id).Scenario.Job));
        Assert.InRange(share("llm-foundry-a100-1b-seq2048-8gpu-b448"), 0.1, 0.15);   // about s / (6h + s): 2048 / 14336
        Assert.InRange(share("llm-foundry-a100-1b-seq32768-8gpu-b32"), 0.6, 0.75);
    }

    [Fact]
    public void TheCataloguedSlowdown_IsTheFitOfTheRepositorysCases()
    {
        // Published and supplementary cases together, as clustertwin calibrate --framework reads them: a change to
        // either that is not followed by a refit fails here.
        var framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"];
        var result = NoRecomputeCalibration.Fit(framework, Repository.CalibrationCases, "test")!;
        Assert.Equal(framework.NoRecomputeSlowdown!.Value, result.Slowdown, 9);
        Assert.Equal(string.Join(", ", framework.NoRecomputeFit!.FittedOn), string.Join(", ", result.Fit.FittedOn));
        var families = result.ByFamily.ToDictionary(family => family.Family, family => family.Slowdown);
        Assert.True(families.Count >= 2 && families.Values.All(value => Math.Abs(value - result.Slowdown) < 0.05),
            $"one factor should hold across the chip families: {string.Join(", ", families)}");
    }

    [Fact]
    public void APlanWithoutRecompute_CarriesTheFitsSpread_InItsBand()
    {
        var scenario = Published("mpt-a100-13b-seq2048-8gpu").Scenario;
        var fit = scenario.Framework.NoRecomputeFit!;
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.Contains(result.BandSources, source => source.Contains("runs without recompute", StringComparison.Ordinal));
        Assert.True(result.StepTimeLow <= result.StepTime * Math.Exp(fit.ResidualLow!.Value) * (1 + 1e-12), $"{result.StepTimeLow}");
        var recomputed = AnalyticalEngine.Simulate(scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.Full } });
        Assert.DoesNotContain(recomputed.BandSources, source => source.Contains("runs without recompute", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("no_recompute_slowdown: ", "no_recompute_slowdown: 0.9   # was ", "no_recompute_slowdown", "")]
    [InlineData("no_recompute_slowdown: ", "no_recompute_slowdown: 12   # was ", "no_recompute_slowdown", "")]
    [InlineData("no_recompute_slowdown: ", "# no factor: ", "no_recompute_fit", "a fit without the no_recompute_slowdown it fitted")]
    [InlineData("  residual_p10: ", "  residual_p10: 0.9   # was ", "no_recompute_fit.residual_p10", "cannot exceed the 90th")]
    public void AnImpossibleSlowdownOrFit_IsACatalogueError(string from, string to, string field, string message)
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/pytorch-fsdp.yaml", from, to);
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(field, diagnostic.Field);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSupplementaryCases_AreEveryRowOfTheTwoTables_NotInThePublishedSet()
    {
        var rows = File.ReadLines(Repository.Path("validation", "supplementary", "llm-foundry-tables.tsv")).Count(line => line.StartsWith("a100_80gb", StringComparison.Ordinal) || line.StartsWith("h100_80gb", StringComparison.Ordinal));
        var published = Directory.GetFiles(Repository.Path("validation", "cases"), "mpt-a100-*.yaml").Length;
        Assert.Equal(rows - published, Supplementary.Value.Length);
        Assert.All(Supplementary.Value, item => Assert.False(item.Fitted));
    }
}
