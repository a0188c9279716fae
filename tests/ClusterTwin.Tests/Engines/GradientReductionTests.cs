using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Tests.Support;
using ClusterTwin.Workloads;
using Xunit;

namespace ClusterTwin.Tests.Engines;

/// <summary>The precision gradients are reduced in: FP32 by default, BF16 where the framework or the job says so.</summary>
public sealed class GradientReductionTests
{
    private const string Example = "gpt3-175b-h100-1024.yaml";

    private static ClusterTwin.Scenarios.Scenario Gpt3() => ScenarioLoader.Load(Repository.Path("examples", Example), Repository.Catalog);

    [Fact]
    public void ReducingInBf16_HalvesTheGradientAllReduce_AndItsLinkTraffic()
    {
        // ZeRO-0 without overlap: the data-parallel time is the gradient all-reduce alone, fully exposed.
        var scenario = Gpt3().WithPlan(plan => plan with { ZeroStage = 0, OverlapGradientReduction = false });
        var fp32 = AnalyticalEngine.SimulateStep(scenario);
        var bf16 = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { GradientReduction = GradientReduction.Bf16 } });
        var ratio = bf16.Breakdown!.DataParallelCommunication / fp32.Breakdown!.DataParallelCommunication;
        // Half the bytes; the collective's per-step latencies do not halve, so a little over one half.
        Assert.InRange(ratio, 0.5, 0.52);
        Assert.True(bf16.LinkTrafficPerStep < fp32.LinkTrafficPerStep);
        // The kept gradients stay FP32: memory does not change.
        Assert.Equal(fp32.Memory, bf16.Memory);
        Assert.Equal(fp32.Breakdown.Compute, bf16.Breakdown.Compute);
    }

    [Fact]
    public void TheFrameworkSetsTheDefault_AndTheJobOverridesIt()
    {
        var fsdp = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"];
        var megatron = Repository.Catalog.TrainingFrameworks["megatron-core"];
        Assert.Equal(GradientReduction.Bf16, fsdp.GradientReduction);
        Assert.Equal(GradientReduction.Fp32, megatron.GradientReduction);
        Assert.Equal(GradientReduction.Fp32, Repository.Catalog.TrainingFrameworks["maxtext"].GradientReduction);

        var job = Gpt3().Job;
        Assert.Equal(GradientReduction.Bf16, fsdp.GradientReductionFor(job));
        Assert.Equal(GradientReduction.Fp32, fsdp.GradientReductionFor(job with { GradientReduction = GradientReduction.Fp32 }));
        Assert.Equal(GradientReduction.Bf16, megatron.GradientReductionFor(job with { GradientReduction = GradientReduction.Bf16 }));
    }

    [Fact]
    public void AScenarioNamesItsReduction_AndAnUnknownPrecisionIsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", Example));
        var named = ScenarioLoader.Load(folder.Write("bf16.yaml", text.Replace("training:\n", "training:\n  gradient_reduction: bf16\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal(GradientReduction.Bf16, named.Job.GradientReduction);
        Assert.Null(Gpt3().Job.GradientReduction);

        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("bad.yaml", text.Replace("training:\n", "training:\n  gradient_reduction: fp16\n", StringComparison.Ordinal)), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("training.gradient_reduction", diagnostic.Field);
        Assert.Contains("bf16", diagnostic.Message, StringComparison.Ordinal);

        var framework = CatalogEdits.LoadWithChange("training-frameworks/pytorch-fsdp.yaml", "gradient_reduction: bf16", "gradient_reduction: half");
        Assert.Equal("gradient_reduction", Assert.Single(framework.Diagnostics).Field);
    }

    [Fact]
    public void TheJsonNamesTheReductionTheStepUsed()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", Example));
        var path = folder.Write("bf16.yaml", text.Replace("training:\n", "training:\n  gradient_reduction: bf16\n", StringComparison.Ordinal));
        using var named = JsonDocument.Parse(CliRunner.Run("simulate", "--json", path).Output);
        Assert.Equal("bf16", named.RootElement.GetProperty("framework").GetProperty("gradientReduction").GetString());
        using var plain = JsonDocument.Parse(CliRunner.Run("simulate", "--json", Repository.Path("examples", Example)).Output);
        Assert.Equal("fp32", plain.RootElement.GetProperty("framework").GetProperty("gradientReduction").GetString());
    }
}
