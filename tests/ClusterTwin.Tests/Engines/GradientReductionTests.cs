using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
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
    public void ReducingInBf16_HalvesTheGradientAllReduce_TheLinkTraffic_AndMegatronsGradientBuffer()
    {
        // ZeRO-0 without overlap: the data-parallel time is the gradient all-reduce alone, fully exposed.
        var scenario = Gpt3().WithPlan(plan => plan with { ZeroStage = 0, OverlapGradientReduction = false });
        var (fp32, bf16) = Both(scenario);
        // Half the bytes; the collective's per-step latencies do not halve, so a little over one half.
        Assert.InRange(bf16.Breakdown!.DataParallelCommunication / fp32.Breakdown!.DataParallelCommunication, 0.5, 0.52);
        Assert.Equal(fp32.Breakdown.Compute, bf16.Breakdown.Compute);

        // The link traffic loses half its gradient term and nothing else; at ZeRO-0 that term is the all-reduce's
        // 2(n-1)/n of the buffer per step, over the chips (the tensor and pipeline traffic is unchanged).
        var parameters = scenario.Model.Parameters / (double)(scenario.Plan.TensorParallelism * scenario.Plan.PipelineParallelism);
        var data = scenario.Plan.DataParallelism;
        var gradientTerm = parameters * 4 * 2 * (data - 1) / (double)data * scenario.Cluster.ChipCount;
        Within.Relative(gradientTerm / 2, (fp32.LinkTrafficPerStep - bf16.LinkTrafficPerStep).Count, 0.005);

        // Megatron-Core's gradient buffer takes the reduction's precision: half the gradient memory.
        Within.Relative(fp32.Memory!.Gradients.Count / 2, bf16.Memory!.Gradients.Count, 1e-12);
        Assert.Equal(fp32.Memory.Weights, bf16.Memory.Weights);
    }

    [Fact]
    public void UnderHybridSharding_TheReplicaAllReduceIsHalvedToo()
    {
        // Sharding groups of one: no reduce-scatter inside a group, so the data-parallel time is the replicas'
        // all-reduce of the whole gradient alone.
        var scenario = Gpt3().WithPlan(plan => plan with { ZeroStage = 1, ShardingGroup = 1, OverlapGradientReduction = false });
        Assert.Equal(scenario.Plan.DataParallelism, scenario.Plan.ReplicaGroups);
        var (fp32, bf16) = Both(scenario);
        Assert.True(fp32.Breakdown!.DataParallelCommunication > ClusterTwin.Units.Duration.Zero);
        Assert.InRange(bf16.Breakdown!.DataParallelCommunication / fp32.Breakdown.DataParallelCommunication, 0.5, 0.52);
    }

    [Fact]
    public void UnderHybridSharding_TheExpertsShardsAreReducedAcrossTheirReplicasToo()
    {
        // Qwen3-30B-A3B on 8 DGX H100, experts over 8 ranks, sharding groups of one, no overlap: nothing is sharded, so
        // the data-parallel time is two all-reduces, the shared parameters' across all 64 replicas and the routed
        // experts' across their 8 (the ranks that hold the same experts), each of its gradients whole.
        var text = "cluster: {system: nvidia-dgx-h100, count: 8, fabric: infiniband-ndr-fat-tree}\nmodel: qwen3-30b-a3b\n" +
            "training: {sequence_length: 4096, global_batch: 256, precision: bf16}\n" +
            "plan: {tensor: 1, expert: 8, micro_batch: 1, recompute: full, zero: 1, sharding: 1, overlap_gradient_reduction: false}\n";
        using var folder = new TemporaryFolder();
        var scenario = ScenarioLoader.Load(folder.Write("hybrid.yaml", text), Repository.Catalog);
        var plan = scenario.Plan;
        Assert.Equal(64, plan.ReplicaGroups);
        Assert.Equal(8, plan.ExpertReplicaGroups);

        var parameters = ClusterTwin.Performance.Memory.StageParameters.Of(scenario.Model, scenario.Job, plan);
        var strides = ClusterTwin.Parallelism.RankStrides.Of(plan);
        var collectives = new ClusterTwin.Performance.Collectives.CollectiveCost(scenario.Cluster, scenario.Efficiency);
        var bytesPerParameter = scenario.Framework.GradientReductionFor(scenario.Job).BytesPerElement();
        var shared = collectives.Time(ClusterTwin.Performance.Collectives.CollectiveKind.AllReduce,
            ClusterTwin.Performance.Collectives.GroupPlacement.Place(scenario.Cluster, 64, strides.Gradient(plan)), ClusterTwin.Units.Bytes.FromCount(parameters.Heaviest * bytesPerParameter));
        var experts = collectives.Time(ClusterTwin.Performance.Collectives.CollectiveKind.AllReduce,
            ClusterTwin.Performance.Collectives.GroupPlacement.Place(scenario.Cluster, 8, strides.Expert(plan) * 8), ClusterTwin.Units.Bytes.FromCount(parameters.HeaviestExperts * bytesPerParameter));
        Within.Relative((shared + experts).Seconds, AnalyticalEngine.SimulateStep(scenario).Breakdown!.DataParallelCommunication.Seconds, 1e-9);
    }

    [Fact]
    public void AFrameworkKeepingOnlyTheFp32Shard_ReducesInItsOwnPrecision_AndKeepsFp32Gradients()
    {
        // The GPT-3 example on PyTorch FSDP (LLM Foundry's settings: BF16 reduction) without overlap.
        var scenario = (Gpt3() with { Framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"] })
            .WithPlan(plan => plan with { ZeroStage = 3, OverlapGradientReduction = false });
        var framework = AnalyticalEngine.SimulateStep(scenario);
        var (fp32, bf16) = Both(scenario);
        Assert.Equal(bf16.Breakdown!.DataParallelCommunication, framework.Breakdown!.DataParallelCommunication);
        Assert.True(fp32.Breakdown!.DataParallelCommunication > framework.Breakdown.DataParallelCommunication);
        // Its gradients are the FP32 parameters' own, whatever it reduces them in.
        Assert.Equal(fp32.Memory!.Gradients, bf16.Memory!.Gradients);
    }

    private static (TrainingStepResult Fp32, TrainingStepResult Bf16) Both(ClusterTwin.Scenarios.Scenario scenario) =>
        (AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { GradientReduction = GradientReduction.Fp32 } }),
         AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { GradientReduction = GradientReduction.Bf16 } }));

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

        // The reports name a reduction other than the default, and say nothing of the default.
        Assert.Contains("gradients reduced in BF16", CliRunner.Run("simulate", path).Output, StringComparison.Ordinal);
        Assert.Contains("gradients reduced in BF16", CliRunner.Run("plan", path, "--top", "1").Output.ReplaceLineEndings(" ").Replace("  ", " ", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.DoesNotContain("gradients reduced", CliRunner.Run("simulate", Repository.Path("examples", Example)).Output, StringComparison.Ordinal);
    }
}
