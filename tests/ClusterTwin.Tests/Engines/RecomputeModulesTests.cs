using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>Selective recompute of named modules (Megatron-Core's <c>--recompute-modules</c>): what it replays and what it frees.</summary>
public class RecomputeModulesTests
{
    private static Scenario Qwen(RecomputePolicy policy, RecomputeModules modules = RecomputeModules.CoreAttention)
    {
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "moezoo-h100-qwen3-235b-1.yaml"), Repository.Catalog).Scenario;
        return scenario with { Plan = scenario.Plan with { Recompute = policy, RecomputeModules = modules } };
    }

    private static double Stored(Scenario scenario) =>
        MemoryModel.ActivationsPerLayer(scenario.Model, scenario.Job, scenario.Plan, expertLayer: true).Stored;

    [Fact]
    public void TheAttentionCoreAlone_IsPlainSelectiveRecompute()
    {
        var plain = AnalyticalEngine.SimulateStep(Qwen(RecomputePolicy.Selective));
        var named = AnalyticalEngine.SimulateStep(Qwen(RecomputePolicy.Selective, RecomputeModules.CoreAttention));
        Assert.Equal(plain.StepTime, named.StepTime);
        Assert.Equal(plain.Memory!.Total, named.Memory!.Total);
    }

    [Fact]
    public void RecomputingTheExpertBlock_ReplaysItsKernelsAndAllToAlls_AndFreesItsActivations()
    {
        var none = Qwen(RecomputePolicy.None);
        var experts = Qwen(RecomputePolicy.Selective, RecomputeModules.Experts);
        var noneStep = AnalyticalEngine.SimulateStep(none).Breakdown!;
        var expertsStep = AnalyticalEngine.SimulateStep(experts).Breakdown!;
        Assert.True(expertsStep.Recompute > noneStep.Recompute, $"{expertsStep.Recompute}");
        Assert.True(expertsStep.ExpertParallelCommunication > noneStep.ExpertParallelCommunication * 1.2, "the dispatch and combine run again");
        Assert.True(Stored(experts) < Stored(none) * 0.8, $"{Stored(experts)} against {Stored(none)}");
    }

    [Fact]
    public void CheapModules_FreeMemory_AndCostLittle()
    {
        var none = Qwen(RecomputePolicy.None);
        var cheap = Qwen(RecomputePolicy.Selective, RecomputeModules.Norms | RecomputeModules.ExpertActivation);
        Assert.True(Stored(cheap) < Stored(none));
        var added = AnalyticalEngine.SimulateStep(cheap).StepTime / AnalyticalEngine.SimulateStep(none).StepTime;
        Assert.InRange(added, 1.0, 1.03);
        Assert.Equal("selective (layernorm, moe_act)", RecomputeModuleNames.Describe(cheap.Plan));
        Assert.Equal("selective", RecomputeModuleNames.Describe(Qwen(RecomputePolicy.Selective).Plan));
    }

    [Fact]
    public void AScenario_ListsItsModules_AndAnUnknownOneIsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        var listed = ScenarioLoader.Load(folder.Write("listed.yaml", System.Text.RegularExpressions.Regex.Replace(text, "recompute: [a-z]+", "recompute: [layernorm, mlp]")), Repository.Catalog);
        Assert.Equal(RecomputePolicy.Selective, listed.Plan.Recompute);
        Assert.Equal(RecomputeModules.Norms | RecomputeModules.FeedForward, listed.Plan.RecomputeModules);

        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("unknown.yaml", System.Text.RegularExpressions.Regex.Replace(text, "recompute: [a-z]+", "recompute: [layernorm, attention]")), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("plan.recompute", diagnostic.Field);
        Assert.Contains("'attention' is not a recompute module", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("core_attn", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpertModules_OnADenseModel_AreAnInvalidPlan_AndAModuleWithoutBrackets_IsAClearError()
    {
        var dense = Repository.Example("gpt3-175b-h100-1024");
        var result = AnalyticalEngine.SimulateStep(dense with { Plan = dense.Plan with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.Experts } });
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("need a mixture-of-experts model", StringComparison.Ordinal));

        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("bare.yaml", System.Text.RegularExpressions.Regex.Replace(text, "recompute: [a-z]+", "recompute: mlp")), Repository.Catalog));
        Assert.Contains("write it as a list, [mlp]", Assert.Single(error.Diagnostics).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void RecomputingLatentUpProjections_ReplaysTheirWork_AndFreesTheQueriesKeysAndValues()
    {
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb200-deepseekv3-256gpu-bf16.yaml"), Repository.Catalog).Scenario;
        var none = scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.None, RecomputeModules = RecomputeModules.CoreAttention } };
        var upProjections = scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.LatentUpProjections } };
        var model = scenario.Model;
        var latent = model.LatentAttention!;

        // One more forward pass of the two up-projections, for every token of the step in every layer.
        var perToken = 2.0 * model.AttentionHeads * ((latent.QueryRank * (double)model.QueryKeyHeadSize) + (latent.KeyValueRank * (double)(model.HeadSize + model.ValueHeadSize)));
        var expected = perToken * model.Layers * scenario.Job.GlobalBatchSize * scenario.Job.SequenceLength;
        var added = AnalyticalEngine.SimulateStep(upProjections).HardwareFlopsPerStep - AnalyticalEngine.SimulateStep(none).HardwareFlopsPerStep;
        Assert.Equal(1.0, added.Operations / expected, 6);

        // The queries, keys and values the up-projections write are dropped, and so are their inputs, the latents after
        // their norms (the checkpoint keeps only what enters it): one micro-batch's tokens of each per layer, in BF16,
        // 128 heads of queries and keys of 192 (128 + 64 rotary) and values of 128, and latents of 1,536 and 512.
        var tokens = (double)scenario.Plan.MicroBatchSize * scenario.Job.SequenceLength;
        Assert.Equal(tokens * 2 * ((128 * (192 + 192 + 128)) + 1536 + 512), Stored(none) - Stored(upProjections), 6);
        Assert.Equal("selective (mla_up_proj)", RecomputeModuleNames.Describe(upProjections.Plan));

        var dense = Repository.Example("gpt3-175b-h100-1024");
        var invalid = AnalyticalEngine.SimulateStep(dense with { Plan = dense.Plan with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.LatentUpProjections } });
        Assert.False(invalid.Valid);
        Assert.Contains(invalid.Problems, problem => problem.Contains("mla_up_proj needs a model with latent attention", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("mbridge2511-gb200-deepseekv3-256gpu-bf16", new[] { "query up-projection", "key-value up-projection" })]
    [InlineData("mbridge2511-gb200-deepseekv3-256gpu-fp8-mx", new[] { "query up-projection: mxfp8 cast", "query up-projection", "key-value up-projection: mxfp8 cast", "key-value up-projection" })]
    public void TheLatentUpProjectionsModule_IsTheTwoMultiplies_AndUnderFp8TheirCasts(string id, string[] kernels)
    {
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", id + ".yaml"), Repository.Catalog).Scenario;
        var tagged = LayerKernels.Forward(scenario.Model, scenario.Job, scenario.Plan, expertLayer: true)
            .Where(kernel => kernel.Modules.HasFlag(RecomputeModules.LatentUpProjections)).Select(kernel => kernel.Name);
        Assert.Equal(kernels, tagged);
    }

    [Fact]
    public void ReplayingTheFeedForwardBlock_ReplaysItsTensorParallelCollective()
    {
        var dense = Repository.Example("gpt3-175b-h100-1024");
        var none = AnalyticalEngine.SimulateStep(dense with { Plan = dense.Plan with { Recompute = RecomputePolicy.None } }).Breakdown!;
        var mlp = AnalyticalEngine.SimulateStep(dense with { Plan = dense.Plan with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.FeedForward } }).Breakdown!;
        Assert.True(mlp.TensorParallelCommunication > none.TensorParallelCommunication, $"{mlp.TensorParallelCommunication} against {none.TensorParallelCommunication}");
        Assert.True(mlp.Recompute > none.Recompute);
    }
}
