using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>Offloading activations to the host (Megatron-Core's <c>cpu_offloading_num_layers</c>): what it frees, what it costs, and when it cannot run.</summary>
public class ActivationOffloadTests
{
    /// <summary>Llama 3 70B on 64 GB200 under Megatron FSDP at micro-batch 2, as its recipe runs it.</summary>
    private static Scenario Llama(int offloaded) =>
        ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml"), Repository.Catalog).Scenario
            .WithPlan(plan => plan with { OffloadedLayers = offloaded });

    private static Scenario WithHostLink(Scenario scenario, Bandwidth link) =>
        scenario with { Cluster = scenario.Cluster with { System = scenario.Cluster.System with { HostLink = scenario.Cluster.System.HostLink! with { Value = link } } } };

    [Fact]
    public void OffloadedLayers_KeepOnlyTheLayerInTransit()
    {
        var none = Llama(0);
        var perLayer = MemoryModel.ActivationsPerLayer(none.Model, none.Job, none.Plan).Stored;
        var kept = MemoryModel.PerChip(none.Model, none.Job, none.Plan, none.Framework.FullyShardedWeights).Activations.Count;
        var offloaded = Llama(40);
        var keptOffloaded = MemoryModel.PerChip(offloaded.Model, offloaded.Job, offloaded.Plan, offloaded.Framework.FullyShardedWeights).Activations.Count;
        Assert.Equal(perLayer * 39, kept - keptOffloaded, 3);
    }

    [Fact]
    public void AFastLink_HidesTheMoves_AndASlowOne_ShowsThemLayerByLayer()
    {
        var fast = AnalyticalEngine.SimulateStep(WithHostLink(Llama(40), Bandwidth.FromBytesPerSecond(1e15))).Breakdown!;
        Assert.Equal(0, fast.ActivationOffload.Seconds);
        Assert.Equal(AnalyticalEngine.SimulateStep(Llama(0)).StepTime.Seconds, fast.Total.Seconds, 9);

        // Slow enough that each move outlasts both the forward and the backward pass it hides behind: every offloaded
        // layer adds the same time, so twice the layers add twice the time.
        var slow = Bandwidth.FromBytesPerSecond(1e9);
        var ten = AnalyticalEngine.SimulateStep(WithHostLink(Llama(10), slow)).Breakdown!.ActivationOffload;
        var twenty = AnalyticalEngine.SimulateStep(WithHostLink(Llama(20), slow)).Breakdown!.ActivationOffload;
        Assert.True(ten.Seconds > 0);
        Assert.Equal(2.0, twenty / ten, 9);
    }

    [Fact]
    public void TheRecipesOffloading_CostsTimeOnTheGraceLink()
    {
        var result = AnalyticalEngine.SimulateStep(Llama(40));
        Assert.InRange(result.Breakdown!.ActivationOffload / result.StepTime, 0.01, 0.2);
        Assert.Equal(result.StepTime, result.Breakdown.Total);
    }

    [Theory]
    [InlineData("pipeline", "needs pipeline 1")]
    [InlineData("recompute", "does not combine with recompute")]
    [InlineData("layers", "fewer than Llama 3 70B's 80 layers")]
    [InlineData("host", "has no host link bandwidth")]
    public void APlanMegatronCoreWouldRefuse_IsInvalid(string change, string problem)
    {
        var scenario = change switch
        {
            "pipeline" => Llama(20).WithPlan(plan => plan with { PipelineParallelism = 2, DataParallelism = 32 }),
            "recompute" => Llama(20).WithPlan(plan => plan with { Recompute = RecomputePolicy.Full }),
            "layers" => Llama(80),
            _ => Llama(20) is var llama ? llama with { Cluster = llama.Cluster with { System = llama.Cluster.System with { HostLink = null } } } : null!,
        };
        var result = AnalyticalEngine.SimulateStep(scenario);
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, text => text.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void AScenario_NamesTheLayers_AndANegativeCountIsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "cases", "mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml"));
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.Load(folder.Write("mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml", text.Replace("offload_activations: 40", "offload_activations: -1", StringComparison.Ordinal)), Repository.Catalog));
        Assert.Equal("scenario.plan.offload_activations", Assert.Single(error.Diagnostics).Field);
        Assert.Equal(40, Llama(40).Plan.OffloadedLayers);
    }
}
