using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;
using Xunit;

namespace ClusterTwin.Tests.Engines;

/// <summary>
/// An expert layer's routing without Megatron-Core's fused permutation kernels (<c>moe_permute_fusion</c> off): the
/// routing kernels at the framework's measured factor over their fused traffic, and nothing else.
/// </summary>
public sealed class UnfusedTokenRoutingTests
{
    private const string Measurements = "nvidia-h200-sxm-moe-routing-2026-11-27.json";

    private static ValidationCase Mixtral() => ValidationCaseLoader.Load(Repository.Path("validation", "supplementary", "nemo-2.0", "nemo2504-gb200-mixtral-8x7b-64gpu-fp8.yaml"), Repository.Catalog);

    private static Scenario Fused(Scenario scenario) => scenario with { Job = scenario.Job with { FusedTokenPermutation = true } };

    [Fact]
    public void TheCataloguedFactor_IsTheFitOfTheMeasurement()
    {
        var chip = Repository.Catalog.Chips["nvidia-h200-sxm"];
        var (slowdown, range, shapes, skipped) = TokenRoutingFit.Fit(Repository.Path("measurements", Measurements), chip, Repository.Catalog.EfficiencyFor(chip));
        var framework = Repository.Catalog.TrainingFrameworks["megatron-core"];
        Assert.Equal(slowdown, framework.UnfusedTokenRouting);
        Assert.Equal(range, framework.UnfusedTokenRoutingRange);
        Assert.Equal(0, skipped);
        // Mixtral 8x7B and 8x22B (top-2 of 8, capacity 1 with padding) and Qwen3-235B (top-8 of 128, dropless): each
        // shape's unfused path takes about four times its fused kernels' traffic with the router in BF16, and more with
        // it in FP32, which makes the band's high end.
        var bf16 = shapes.Where(shape => shape.Router == "bf16").ToArray();
        Assert.Equal(["mixtral-8x7b", "mixtral-8x22b", "qwen3-235b-a22b"], bf16.Select(shape => shape.Model));
        Assert.All(bf16, shape => Assert.InRange(shape.Slowdown, 3.5, 5));
        Assert.All(shapes.Where(shape => shape.Router == "fp32"), shape => Assert.True(shape.Slowdown > bf16.Single(other => other.Model == shape.Model).Slowdown * 1.3, shape.Model));
        Assert.Equal(Math.Round(bf16.Min(shape => shape.Slowdown), 2), range.Low);
        Assert.True(range.Low < slowdown && slowdown < range.High);
    }

    [Fact]
    public void AnUnfusedRunsBand_ReachesTheRouterInFp32()
    {
        var recipe = Mixtral().Scenario;
        var result = AnalyticalEngine.Simulate(recipe);
        var range = recipe.Framework.UnfusedTokenRoutingRange!;
        var slowest = AnalyticalEngine.SimulateStep(recipe with { Framework = recipe.Framework with { UnfusedTokenRouting = range.High } }).StepTime;
        Assert.True(slowest > result.StepTime);
        Assert.True(result.StepTimeHigh >= slowest, $"{result.StepTimeHigh} against {slowest}");
        Assert.Contains(result.BandSources, source => source.StartsWith("unfused token routing 6.61x (the router in FP32)", StringComparison.Ordinal));
        var fused = AnalyticalEngine.Simulate(Fused(recipe));
        Assert.DoesNotContain(fused.BandSources, source => source.StartsWith("unfused token routing", StringComparison.Ordinal));
    }

    [Fact]
    public void OnlyTheRoutingKernels_TakeTheFactor()
    {
        var chip = Repository.Catalog.Chips["nvidia-h100-sxm"];
        var peak = chip.PeakRate(Precision.Bf16)!.Value;
        var fused = new KernelCost(peak, peak, chip.MemoryBandwidth.Value, Repository.Catalog.EfficiencyFor(chip));
        var unfused = fused with { UnfusedTokenRouting = 4 };
        var (router, scores, permutation, unpermutation) = LayerKernels.Routing(8192, 4096, new ExpertLayers(8, 2, 14336), 2, 2);
        foreach (var kernel in new[] { scores, permutation, unpermutation })
        {
            Assert.True(kernel.TokenRouting);
            Within.Relative(4 * fused.Forward(kernel).Seconds, unfused.Forward(kernel).Seconds, 1e-12);
            Within.Relative(4 * fused.Backward(kernel).Seconds, unfused.Backward(kernel).Seconds, 1e-12);
        }

        Assert.False(router.TokenRouting);
        Assert.Equal(fused.Forward(router), unfused.Forward(router));
        var norm = permutation with { TokenRouting = false, Name = "norm" };
        Assert.Equal(fused.Forward(norm), unfused.Forward(norm));
    }

    [Fact]
    public void MixtralsUnfusedRecipe_IsSlower_ByTheFactorOnItsRoutingAlone()
    {
        // NeMo's Mixtral 8x7B on 64 GB200 (one pipeline stage, 32 expert layers, two micro-batches a step) leaves
        // moe_permute_fusion off: its compute grows by the factor less one times its routing kernels' fused time in
        // every layer's pass, and nothing else in the step moves.
        var recipe = Mixtral().Scenario;
        Assert.False(recipe.Job.FusedTokenPermutation);
        var (unfused, fused) = (AnalyticalEngine.Simulate(recipe), AnalyticalEngine.Simulate(Fused(recipe)));
        var cost = AnalyticalEngine.KernelCostOf(Fused(recipe));
        var routing = LayerKernels.Forward(recipe.Model, recipe.Job, recipe.Plan, expertLayer: true, averageLoad: true)
            .Where(kernel => kernel.TokenRouting)
            .Aggregate(Duration.Zero, (sum, kernel) => sum + cost.Forward(kernel) + cost.Backward(kernel));
        var factor = Repository.Catalog.TrainingFrameworks["megatron-core"].UnfusedTokenRouting!.Value;
        var microBatches = recipe.Job.GlobalBatchSize / (recipe.Plan.DataParallelism * recipe.Plan.MicroBatchSize);
        Within.Relative((factor - 1) * routing.Seconds * recipe.Model.Layers * microBatches, (unfused.Breakdown!.Compute - fused.Breakdown!.Compute).Seconds, 0.01);
        Assert.Equal(fused.Breakdown.ExpertParallelCommunication, unfused.Breakdown.ExpertParallelCommunication);
        Assert.True(unfused.StepTime > fused.StepTime * 1.03, $"{unfused.StepTime} against {fused.StepTime}");
    }

    [Fact]
    public void ThePublishedRuns_UseTheFusedKernels_SoNoneMoves()
    {
        // Whatever the factor, a run with the fused kernels takes the same step.
        var cases = Repository.TrainingCases.Where(item => item.Scenario.Model.MixtureOfExperts is not null).ToArray();
        Assert.Equal(23, cases.Length);
        Assert.All(cases, item =>
        {
            var tenfold = item.Scenario with { Framework = item.Scenario.Framework with { UnfusedTokenRouting = 10 } };
            Assert.Equal(AnalyticalEngine.SimulateStep(item.Scenario).StepTime, AnalyticalEngine.SimulateStep(tenfold).StepTime);
        });
    }

    [Fact]
    public void AFrameworkWithoutAMeasuredFigure_CannotRunTheUnfusedPath()
    {
        var recipe = Mixtral().Scenario;
        var result = AnalyticalEngine.SimulateStep(recipe with { Framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"] });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("has no measured cost of it (its file has no unfused_token_routing)", StringComparison.Ordinal));
    }

    [Fact]
    public void ACaseThatIsNotTrueOrFalse_IsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "supplementary", "nemo-2.0", "nemo2504-gb200-mixtral-8x7b-64gpu-fp8.yaml"));
        var file = folder.Write("nemo2504-gb200-mixtral-8x7b-64gpu-fp8.yaml", text.Replace("fused_token_permutation: false", "fused_token_permutation: sometimes", StringComparison.Ordinal));
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.Load(file, Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.EndsWith("fused_token_permutation", StringComparison.Ordinal) && diagnostic.Message.Contains("'sometimes' is not true or false", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("folder", "is a folder (expected the JSON file of routing timings")]
    [InlineData("chip", "the measurements come from a GPU with")]
    [InlineData("negative", "kernels_seconds.Memset (Device): expected a number of seconds, 0 or more")]
    [InlineData("fp32 only", "no timed routing with the router in bf16")]
    [InlineData("fused", "outside 1 to 100: the unfused path cannot be faster than the fused kernels")]
    public void RoutingTimingsTheFitCannotUse_AreErrorsNamingTheFile(string change, string message)
    {
        using var folder = new TemporaryFolder();
        var timings = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Repository.Path("measurements", Measurements)))!.AsObject();
        var rows = timings["moe_routing"]!.AsArray().Select(row => row!.AsObject()).ToArray();
        switch (change)
        {
            case "negative":
                rows[0]["kernels_seconds"]!["Memset (Device)"] = -1e-6;
                break;
            case "fp32 only":
                Array.ForEach(rows, row => row["router_dtype"] = "fp32");
                break;
            case "fused": // each kernel a tenth as long: faster than the fused kernels' traffic
                foreach (var row in rows)
                {
                    var kernels = row["kernels_seconds"]!.AsObject();
                    foreach (var name in kernels.Select(kernel => kernel.Key).ToArray())
                    {
                        kernels[name] = kernels[name]!.GetValue<double>() / 10;
                    }
                }

                break;
        }

        var path = change == "folder" ? folder.Path : folder.Write("routing.json", timings.ToJsonString());
        var chip = Repository.Catalog.Chips[change == "chip" ? "nvidia-b200" : "nvidia-h200-sxm"];
        var error = Assert.Throws<InputException>(() => TokenRoutingFit.Fit(path, chip, Repository.Catalog.EfficiencyFor(chip)));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }
}
