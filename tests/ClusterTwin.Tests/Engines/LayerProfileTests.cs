using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>Each kind of layer's operators as the engine costs them (<c>simulate --kernels</c>).</summary>
public sealed class LayerProfileTests
{
    private static Scenario Case(string id, string folder = "cases") => ValidationCaseLoader.Load(Repository.Path("validation", folder, id + ".yaml"), Repository.Catalog).Scenario;

    /// <summary>
    /// On one pipeline stage without recompute, the tables times their counts and the micro-batches are the step's
    /// compute and its waits for the host's expert launches, exactly.
    /// </summary>
    private static void AssertTheTablesMakeUpTheStep(Scenario scenario)
    {
        var onOneStage = scenario.WithPlan(plan => plan with { PipelineParallelism = 1, VirtualStages = 1, DataParallelism = plan.DataParallelism * plan.PipelineParallelism, Recompute = RecomputePolicy.None, FirstStageLayers = null, LastStageLayers = null });
        var step = AnalyticalEngine.SimulateStep(onOneStage);
        Assert.True(step.Valid, string.Join("; ", step.Problems));
        Assert.Null(AnalyticalEngine.NoRecomputeSlowdown(onOneStage));
        var profiles = LayerProfile.Of(onOneStage);
        Assert.Equal(scenario.Model.Layers, profiles.Where(item => item.Layer.EndsWith("layer", StringComparison.Ordinal) || item.Layer.Contains("layer,", StringComparison.Ordinal)).Sum(item => item.Count));
        var tables = profiles.Aggregate(Duration.Zero, (sum, item) => sum + (item.Total * item.Count)) * step.MicroBatches;
        Within.Relative((step.Breakdown!.Compute + step.Breakdown.HostLaunchWait).Seconds, tables.Seconds, 1e-9);
    }

    [Fact]
    public void ADenseModel_HasItsLayerTheEmbeddingAndTheHead()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var profiles = LayerProfile.Of(scenario);
        Assert.Equal(["embedding (first stage)", "dense layer", "output head and loss (last stage)"], profiles.Select(item => item.Layer));
        var layer = profiles[1];
        Assert.Equal(scenario.Model.Layers, layer.Count);
        Assert.Contains(layer.Operators, item => item.Kind == KernelKind.FusedAttention && item.Bound == OperatorBound.Compute);
        Assert.Contains(layer.Operators, item => item.Kind == KernelKind.Memory && item.Bound == OperatorBound.Memory);
        Assert.All(profiles, item => Assert.Equal(Duration.Zero, item.HostWait));
        AssertTheTablesMakeUpTheStep(scenario);
    }

    [Fact]
    public void ADroplessMixtureOfExperts_ShowsTheHostBoundExpertMultiplies_AndTheirWaits()
    {
        var dropless = Case("mbridge2511-h100-qwen3_30b_a3b-16gpu-fp8-cs");
        var layer = Assert.Single(LayerProfile.Of(dropless), item => item.Layer == "mixture-of-experts layer");
        var experts = layer.Operators.Where(item => item.Kind == KernelKind.Matrix && item.Runs > 1).ToArray();
        Assert.NotEmpty(experts);
        Assert.All(experts, item => Assert.Equal(OperatorBound.Host, item.Bound));
        Assert.All(experts, item => Assert.True(item.HostWait > Duration.Zero));
        Assert.Equal(Duration.Zero, layer.HostWait);
        AssertTheTablesMakeUpTheStep(dropless);
    }

    [Fact]
    public void UnderDropAndPad_TheHostsLaunchesThatOutlastAPass_AreTheLayersOwnWait()
    {
        // The host runs ahead: no multiply waits for it alone, the pass as a whole does where its launches outlast it.
        var dropless = Case("mbridge2511-h100-qwen3_30b_a3b-16gpu-fp8-cs");
        var padded = dropless with { Job = dropless.Job with { ExpertCapacityFactor = 1.0, ForcedLoadBalance = false }, Plan = dropless.Plan with { OverlapExpertCommunication = false } };
        var profiles = LayerProfile.Of(padded);
        Assert.All(profiles.SelectMany(item => item.Operators), item => Assert.NotEqual(OperatorBound.Host, item.Bound));
        var layer = Assert.Single(profiles, item => item.Layer == "mixture-of-experts layer");
        Assert.True(layer.HostWait > Duration.Zero, "a layer of 16 small FP8 expert multiplies a pass is host-bound even when the host runs ahead");
        AssertTheTablesMakeUpTheStep(padded);
    }

    [Fact]
    public void MultiTokenPrediction_AddsItsJoinAndLayer_AndItsOutputsToTheHead()
    {
        var published = Case("mbridge2511-gb200-deepseekv3-256gpu-bf16");
        var scenario = published with { Job = published.Job with { MultiTokenPrediction = true } };
        var modules = scenario.Job.MultiTokenPredictionDepth(scenario.Model);
        Assert.True(modules > 0, "DeepSeek-V3 trains its prediction module");
        var profiles = LayerProfile.Of(scenario);
        Assert.Equal(modules, Assert.Single(profiles, item => item.Layer == "multi-token prediction layer (last stage)").Count);
        Assert.Equal(1 + modules, Assert.Single(profiles, item => item.Layer == "output head and loss (last stage)").Count);
        AssertTheTablesMakeUpTheStep(scenario);
    }

    [Fact]
    public void LocalAttentionLayers_AreCountedByKind_AsTheModelPlacesThem()
    {
        // Llama 4 Maverick: every fourth layer attends globally, and those are the expert layers of its alternation.
        var model = Repository.Catalog.Models["llama4-maverick"];
        var basis = Repository.Example("gpt3-175b-h100-1024");
        var scenario = basis with
        {
            Model = model,
            Job = basis.Job with { SequenceLength = 32768, GlobalBatchSize = 1024 },
            Plan = basis.Plan with { TensorParallelism = 8, PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 128, ExpertParallelism = 128, ContextParallelism = 1 },
        };
        var counts = LayerProfile.Of(scenario).ToDictionary(item => item.Layer, item => item.Count);
        Assert.Equal(model.LocalAttentionLayerCount, counts.GetValueOrDefault("dense layer, local attention") + counts.GetValueOrDefault("mixture-of-experts layer, local attention"));
        Assert.Equal(model.ExpertLayerCount, counts.GetValueOrDefault("mixture-of-experts layer") + counts.GetValueOrDefault("mixture-of-experts layer, local attention"));
        for (var index = 0; index < model.Layers; index++)
        {
            if (model.DenseLayersIn(index, 1) == 1)
            {
                Assert.Equal(1, model.LocalAttention!.LocalLayersIn(index, 1));
            }
        }

        Assert.False(counts.ContainsKey("dense layer"), "every dense layer of Maverick is a local one");
        AssertTheTablesMakeUpTheStep(scenario);
    }

    [Fact]
    public void ARefusedPlan_HasNoLayers()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024").WithPlan(plan => plan with { ExpertParallelism = 2 });
        Assert.Empty(LayerProfile.Of(scenario));
    }
}
