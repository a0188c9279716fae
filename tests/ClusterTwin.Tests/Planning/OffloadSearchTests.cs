using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Planning;

/// <summary>
/// The search offloads activations to the host where a layout is over memory, the framework offloads and the system
/// has a host link: the fewest layers that make it fit, as Megatron-Bridge's recipes choose them.
/// </summary>
public class OffloadSearchTests
{
    /// <summary>Megatron-Bridge's Llama 3 70B layout on 64 GB200 (FP8, Megatron FSDP), with the data-parallel degree and context left to the search.</summary>
    private const string Llama70OnGb200 = """
        name: Llama 3 70B on 64 GB200
        cluster: {system: nvidia-gb200-nvl72, chips: 64, fabric: infiniband-ndr-fat-tree}
        model: llama3-70b
        training: {sequence_length: 8192, global_batch: 256, precision: fp8, attention: flash, gradient_reduction: bf16}
        plan:
          tensor: 1
          pipeline: 1
          micro_batch: 2
          recompute: none
          zero: 3
        """;

    private static PlanningScenario Load(string text)
    {
        using var folder = new TemporaryFolder();
        var planning = ScenarioLoader.LoadForPlanning(folder.Write("scenario.yaml", text), Repository.Catalog);
        return planning with { Pins = planning.Pins with { SearchesOffloading = true } };
    }

    private static bool Fits(Scenario scenario) =>
        AnalyticalEngine.SimulateStep(scenario) is { Valid: true } step && step.Memory!.Total <= scenario.Cluster.Chip.MemoryCapacity.Value;

    [Fact]
    public void ALayoutOverMemory_OffloadsTheFewestLayersThatMakeItFit()
    {
        var planning = Load(Llama70OnGb200);
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 20);
        var offloading = Assert.Single(search.Plans, ranked => ranked.Plan.OffloadedLayers > 0);
        Assert.Equal(1, search.FitByOffloading);

        // The published layout: pure data parallelism at micro-batch 2, which keeps too much without offloading.
        Assert.Equal((1, 64), (offloading.Plan.ContextParallelism, offloading.Plan.DataParallelism));
        var scenario = planning.Scenario with { Plan = offloading.Plan };
        Assert.True(Fits(scenario));
        Assert.False(Fits(scenario with { Plan = offloading.Plan with { OffloadedLayers = offloading.Plan.OffloadedLayers - 1 } }));
        Assert.False(Fits(scenario with { Plan = offloading.Plan with { OffloadedLayers = 0 } }));
        Assert.True(offloading.Result.Breakdown!.ActivationOffload > ClusterTwin.Units.Duration.Zero);
        Assert.Equal(AnalyticalEngine.Simulate(scenario).StepTime, offloading.Result.StepTime);
    }

    [Fact]
    public void WithoutBeingAsked_TheSearchOffloadsNothing()
    {
        var planning = Load(Llama70OnGb200);
        var search = PlanSearch.Run(planning.Scenario, planning.Pins with { SearchesOffloading = false }, top: 20);
        Assert.All(search.Plans, ranked => Assert.Equal(0, ranked.Plan.OffloadedLayers));
        Assert.Equal(0, search.FitByOffloading);
        Assert.True(search.PrunedMemory > 0, "the published layout is over memory without offloading");
    }

    [Fact]
    public void APinnedOffload_IsKept_AndNonePinnedOffloadsNothing()
    {
        var none = Load(Llama70OnGb200 + "\n  offload_activations: 0");
        var search = PlanSearch.Run(none.Scenario, none.Pins, top: 20);
        Assert.All(search.Plans, ranked => Assert.Equal(0, ranked.Plan.OffloadedLayers));
        Assert.Equal(0, search.FitByOffloading);
        Assert.True(search.PrunedMemory > 0);

        var forty = Load(Llama70OnGb200 + "\n  offload_activations: 40");
        Assert.All(PlanSearch.Run(forty.Scenario, forty.Pins, top: 20).Plans, ranked => Assert.Equal(40, ranked.Plan.OffloadedLayers));
    }

    [Fact]
    public void AHostTooSmallForTheFewestLayers_GetsNoOffloadedLayout()
    {
        // The fewest layers that fit the GPU need ~160 GB of each GPU's host share; a tenth of the Grace memory cannot
        // hold them, and offloading more only needs more.
        var planning = Load(Llama70OnGb200);
        var system = planning.Scenario.Cluster.System;
        var small = planning.Scenario with { Cluster = planning.Scenario.Cluster with { System = system with { HostMemory = system.HostMemory! with { Value = system.HostMemory.Value / 10 } } } };
        var search = PlanSearch.Run(small, planning.Pins, top: 20);
        Assert.All(search.Plans, ranked => Assert.Equal(0, ranked.Plan.OffloadedLayers));
        Assert.Equal(0, search.FitByOffloading);
    }

    [Fact]
    public void AFrameworkThatDoesNotOffload_GetsNoOffloadedLayout()
    {
        var planning = Load(Llama70OnGb200.Replace("gradient_reduction: bf16", "gradient_reduction: bf16, framework: pytorch-fsdp", StringComparison.Ordinal));
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 20);
        Assert.All(search.Plans, ranked => Assert.Equal(0, ranked.Plan.OffloadedLayers));
        Assert.Equal(0, search.FitByOffloading);
    }

    /// <summary>Llama 4 Maverick (dense and expert layers alternating) on 64 GB200, context, expert, data and micro-batch searched.</summary>
    private const string MaverickOnGb200 = """
        name: Llama 4 Maverick on 64 GB200
        cluster: {system: nvidia-gb200-nvl72, chips: 64, fabric: infiniband-ndr-fat-tree}
        model: llama4-maverick
        training: {sequence_length: 8192, global_batch: 256, precision: fp8, attention: flash, gradient_reduction: bf16}
        plan: {tensor: 1, pipeline: 1, recompute: none, zero: 3}
        """;

    [Fact]
    public void OnAModelOfDenseAndExpertLayers_EveryOffloadedLayout_OffloadsTheFewestThatFit()
    {
        // The layer in transit is the larger kind among those offloaded, so the chip's memory does not fall evenly with
        // each layer; the bisection must still land on the count a scan from zero would find.
        var planning = Load(MaverickOnGb200);
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 12);
        var offloaded = search.Plans.Where(ranked => ranked.Plan.OffloadedLayers > 0).ToArray();
        Assert.NotEmpty(offloaded);
        Assert.True(search.FitByOffloading >= offloaded.Length);
        foreach (var ranked in offloaded)
        {
            var fewest = Enumerable.Range(1, planning.Scenario.Model.Layers - 1)
                .First(count => Fits(planning.Scenario with { Plan = ranked.Plan with { OffloadedLayers = count } }));
            Assert.Equal(fewest, ranked.Plan.OffloadedLayers);
        }
    }

    [Fact]
    public void TheOffloadingSearch_DoesNotDependOnTheThreads()
    {
        var planning = Load(MaverickOnGb200);
        var one = PlanSearch.Run(planning.Scenario, planning.Pins, top: 20, threads: 1);
        var every = PlanSearch.Run(planning.Scenario, planning.Pins, top: 20);
        Assert.Equal(one.Plans.Select(ranked => ranked.Plan), every.Plans.Select(ranked => ranked.Plan));
        Assert.Equal(one.FitByOffloading, every.FitByOffloading);
    }
}
