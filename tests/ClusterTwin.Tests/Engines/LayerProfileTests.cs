using ClusterTwin.Engines.Analytical;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>Each kind of layer's operators as the engine costs them (<c>simulate --kernels</c>).</summary>
public sealed class LayerProfileTests
{
    private static ValidationCase Case(string id) => ValidationCaseLoader.Load(Repository.Path("validation", "cases", id + ".yaml"), Repository.Catalog);

    [Fact]
    public void ADenseModel_HasItsLayerTheEmbeddingAndTheHead_WhoseOperatorsMakeUpTheStepsCompute()
    {
        // One stage, no recompute and no slowdown for it: the step's compute is every layer's operators, the embedding's
        // and the head's, once per micro-batch.
        var scenario = Repository.Example("gpt3-175b-h100-1024").WithPlan(plan => plan with { PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 128, Recompute = ClusterTwin.Parallelism.RecomputePolicy.None });
        var step = AnalyticalEngine.SimulateStep(scenario);
        Assert.True(step.Valid, string.Join("; ", step.Problems));
        Assert.Null(AnalyticalEngine.NoRecomputeSlowdown(scenario));

        var profiles = LayerProfile.Of(scenario);
        Assert.Equal(["embedding (first stage)", "dense layer", "output head and loss (last stage)"], profiles.Select(item => item.Layer));
        var layer = profiles[1];
        Assert.Equal(scenario.Model.Layers, layer.Count);
        Assert.Contains(layer.Operators, item => item.Kind == KernelKind.FusedAttention && item.Bound == OperatorBound.Compute);
        Assert.Contains(layer.Operators, item => item.Kind == KernelKind.Memory && item.Bound == OperatorBound.Memory);
        var total = profiles.Aggregate(Duration.Zero, (sum, item) => sum + ((item.Forward + item.Backward) * item.Count)) * step.MicroBatches;
        Within.Relative(step.Breakdown!.Compute.Seconds, total.Seconds, 1e-9);
    }

    [Fact]
    public void ADroplessMixtureOfExperts_ShowsTheHostBoundExpertMultiplies_AndDropAndPadDoesNot()
    {
        var dropless = Case("mbridge2511-h100-qwen3_30b_a3b-16gpu-fp8-cs").Scenario;
        var layer = Assert.Single(LayerProfile.Of(dropless), item => item.Layer.Contains("layer", StringComparison.Ordinal));
        Assert.Equal("mixture-of-experts layer", layer.Layer);
        var experts = layer.Operators.Where(item => item.Kind == KernelKind.Matrix && item.Runs > 1).ToArray();
        Assert.NotEmpty(experts);
        Assert.All(experts, item => Assert.Equal(OperatorBound.Host, item.Bound));
        Assert.All(experts, item => Assert.True(item.HostWait > Duration.Zero));

        // Under drop-and-pad the host runs ahead: no single multiply waits for it (the layer's pass does, as a whole).
        var padded = dropless with { Job = dropless.Job with { ExpertCapacityFactor = 1.0, ForcedLoadBalance = false }, Plan = dropless.Plan with { OverlapExpertCommunication = false } };
        Assert.All(LayerProfile.Of(padded).SelectMany(item => item.Operators), item => Assert.NotEqual(OperatorBound.Host, item.Bound));
    }

    [Fact]
    public void ARefusedPlan_HasNoLayers()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024").WithPlan(plan => plan with { ExpertParallelism = 2 });
        Assert.Empty(LayerProfile.Of(scenario));
    }
}
