using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Engines;

/// <summary>Offloading activations to the host (Megatron-Core's <c>cpu_offloading_num_layers</c>): what it frees, when it moves, what it costs, and when it cannot run.</summary>
public class ActivationOffloadTests
{
    private static ValidationCase Recipe() =>
        ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml"), Repository.Catalog);

    /// <summary>Llama 3 70B on 64 GB200 under Megatron FSDP at micro-batch 2, as its recipe runs it, offloading <paramref name="offloaded"/> layers.</summary>
    private static Scenario Llama(int offloaded) => Recipe().Scenario.WithPlan(plan => plan with { OffloadedLayers = offloaded });

    /// <summary><paramref name="scenario"/> with its host link at <paramref name="bytesPerSecond"/> and no host memory bandwidth to bound it: the link alone sets the moves' rate.</summary>
    private static Scenario WithHostLink(Scenario scenario, double bytesPerSecond)
    {
        var system = scenario.Cluster.System;
        return scenario with { Cluster = scenario.Cluster with { System = system with { HostLink = system.HostLink! with { Value = Bandwidth.FromBytesPerSecond(bytesPerSecond) }, HostMemoryBandwidth = null } } };
    }

    private static Duration Offload(Scenario scenario) => AnalyticalEngine.SimulateStep(scenario).Breakdown!.ActivationOffload;

    /// <summary>What one dense layer keeps for one micro-batch, the bytes each of its moves carries, and the micro-batches of a step.</summary>
    private static (double Bytes, double MicroBatches) DenseLayerBytesAndMicroBatches(Scenario scenario) =>
        (MemoryModel.ActivationsPerLayer(scenario.Model, scenario.Job, scenario.Plan, savedInputs: scenario.Framework.SavedMultiplyInputs).Stored, AnalyticalEngine.SimulateStep(scenario).MicroBatches);

    [Theory]
    [InlineData(80, 40, new[] { 1, 3, 5, 7 }, 79)]
    [InlineData(80, 20, new[] { 3, 7, 11, 15 }, 79)]
    [InlineData(10, 3, new[] { 3, 6, 9 }, 9)]
    [InlineData(61, 7, new[] { 8, 17, 26, 35 }, 60)]
    public void TheMoves_FollowTransformerEnginesLayerWindows(int layers, int offloaded, int[] first, int last)
    {
        // Transformer Engine's layer_window_map, worked by hand from its formula for these shapes.
        var deadlines = OffloadSchedule.Deadlines(layers, offloaded);
        Assert.Equal(first, deadlines.Take(first.Length));
        Assert.Equal(last, deadlines[^1]);
        Assert.Equal(deadlines[^1], OffloadSchedule.Windows(layers, offloaded).Sum(window => window.Count));
    }

    [Fact]
    public void OffloadedLayers_KeepOnlyTheLayerInTransit()
    {
        var none = Llama(0);
        var perLayer = MemoryModel.ActivationsPerLayer(none.Model, none.Job, none.Plan, savedInputs: none.Framework.SavedMultiplyInputs).Stored;
        var kept = MemoryModel.PerChip(none.Model, none.Job, none.Plan, none.Framework.FullyShardedWeights, savedInputs: none.Framework.SavedMultiplyInputs).Activations.Count;
        var offloaded = Llama(40);
        var keptOffloaded = MemoryModel.PerChip(offloaded.Model, offloaded.Job, offloaded.Plan, offloaded.Framework.FullyShardedWeights, savedInputs: offloaded.Framework.SavedMultiplyInputs).Activations.Count;
        Assert.Equal(perLayer * 39, kept - keptOffloaded, 3);
    }

    [Fact]
    public void OffloadingDenseAndExpertLayers_KeepsTheLargerOfThemInTransit()
    {
        // DeepSeek-V3's first three layers are dense: offloading five frees three dense and two expert layers but one.
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb200-deepseekv3-256gpu-bf16.yaml"), Repository.Catalog).Scenario
            .WithPlan(plan => plan with { PipelineParallelism = 1, VirtualStages = 1, FirstStageLayers = null, LastStageLayers = null, DataParallelism = 256, Recompute = RecomputePolicy.None });
        var (model, job) = (scenario.Model, scenario.Job);
        double Kept(int offloaded) => MemoryModel.PerChip(model, job, scenario.Plan with { OffloadedLayers = offloaded }, scenario.Framework.FullyShardedWeights, savedInputs: scenario.Framework.SavedMultiplyInputs).Activations.Count;
        var dense = MemoryModel.ActivationsPerLayer(model, job, scenario.Plan, savedInputs: scenario.Framework.SavedMultiplyInputs).Stored;
        var expert = MemoryModel.ActivationsPerLayer(model, job, scenario.Plan, expertLayer: true, scenario.Framework.SavedMultiplyInputs).Stored;
        Assert.Equal(3, model.DenseLayersIn(0, 5));
        Assert.Equal((3 * dense) + (2 * expert) - Math.Max(dense, expert), Kept(0) - Kept(5), 3);
    }

    [Fact]
    public void OnASlowLink_EveryMoveShows_BothWays()
    {
        // Slow enough that each move outlasts every window: halving the link's speed adds each move's extra time twice
        // (to the host and back) for each offloaded layer and micro-batch.
        var scenario = Llama(40);
        var (bytes, microBatches) = DenseLayerBytesAndMicroBatches(scenario);
        var difference = Offload(WithHostLink(scenario, 1e9)) - Offload(WithHostLink(scenario, 2e9));
        Assert.Equal(microBatches * 40 * 2 * ((bytes / 1e9) - (bytes / 2e9)), difference.Seconds, 6);
    }

    [Fact]
    public void AMoveBetweenItsWindowsForwardAndBackward_ShowsOnlyOnTheWayOut()
    {
        // Offloading 79 of 80 layers gives every move one layer. At 200 to 250 GB/s a layer's move (18-23 ms) outlasts
        // that layer's forward pass but not its backward pass: only the offloads show, so a faster link saves each
        // move's difference once, not twice.
        var scenario = Llama(79);
        var (bytes, microBatches) = DenseLayerBytesAndMicroBatches(scenario);
        var difference = Offload(WithHostLink(scenario, 200e9)) - Offload(WithHostLink(scenario, 250e9));
        Assert.Equal(microBatches * 79 * ((bytes / 200e9) - (bytes / 250e9)), difference.Seconds, 6);
    }

    [Fact]
    public void TheRecipesMoves_HideButTheFirst()
    {
        // Llama 3 70B offloading 40 of 80 layers: the first move has one layer to hide behind, the others two; over
        // NVLink-C2C only the first one's offload shows, so the link's speed moves the step by that one move alone.
        var scenario = Llama(40);
        var (bytes, microBatches) = DenseLayerBytesAndMicroBatches(scenario);
        Assert.True(Offload(WithHostLink(scenario, 225e9)) > Duration.Zero);
        var difference = Offload(WithHostLink(scenario, 225e9)) - Offload(WithHostLink(scenario, 250e9));
        Assert.Equal(microBatches * ((bytes / 225e9) - (bytes / 250e9)), difference.Seconds, 6);
    }

    [Fact]
    public void DenseAndExpertLayers_MoveTheirOwnActivations()
    {
        // DeepSeek-V3's first three layers are dense: on a slow link, offloading five moves three dense and two expert
        // layers' activations, both ways.
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb200-deepseekv3-256gpu-bf16.yaml"), Repository.Catalog).Scenario
            .WithPlan(plan => plan with { PipelineParallelism = 1, VirtualStages = 1, FirstStageLayers = null, LastStageLayers = null, DataParallelism = 256, Recompute = RecomputePolicy.None, OffloadedLayers = 5 });
        var dense = MemoryModel.ActivationsPerLayer(scenario.Model, scenario.Job, scenario.Plan, savedInputs: scenario.Framework.SavedMultiplyInputs).Stored;
        var expert = MemoryModel.ActivationsPerLayer(scenario.Model, scenario.Job, scenario.Plan, expertLayer: true, scenario.Framework.SavedMultiplyInputs).Stored;
        Assert.True(AnalyticalEngine.SimulateStep(scenario).Valid);
        var microBatches = AnalyticalEngine.SimulateStep(scenario).MicroBatches;
        var difference = Offload(WithHostLink(scenario, 1e9)) - Offload(WithHostLink(scenario, 2e9));
        Assert.Equal(microBatches * 2 * ((3 * dense) + (2 * expert)) * ((1 / 1e9) - (1 / 2e9)), difference.Seconds, 3);
    }

    [Fact]
    public void TheMovesRate_IsTheHostLink_OrTheChipsShareOfTheHostMemory_WhicheverIsLess()
    {
        // GB200 NVL72: two GPUs per Grace, whose LPDDR5X gives each 14 TB/s / 72 = 194 GB/s, less than the 225 GB/s of
        // NVLink-C2C; a DGX H100's DDR5 gives each GPU 563 GB/s / 8 = 70 GB/s, more than its 64 GB/s PCIe link.
        var rack = Repository.Catalog.Systems["nvidia-gb200-nvl72"];
        Within.Relative(14e12 / 72, rack.OffloadBandwidth!.Value.BytesPerSecond, 1e-12);
        Within.Relative(17e12 / 72, rack.HostMemoryPerChip!.Value.Count, 1e-12);
        var dgx = Repository.Catalog.Systems["nvidia-dgx-h100"];
        Assert.Equal(dgx.HostLink!.Value, dgx.OffloadBandwidth);
        Within.Relative(2e12 / 8, dgx.HostMemoryPerChip!.Value.Count, 1e-12);

        // Part of a rack shares the whole rack's host memory: 64 of the 72 GPUs still get a 72nd each.
        Assert.Equal(rack.OffloadBandwidth, Llama(40).Cluster.System.OffloadBandwidth);
        Within.Relative(17e12 / 72, Llama(40).Cluster.System.HostMemoryPerChip!.Value.Count, 1e-12);
        var (bytes, microBatches) = DenseLayerBytesAndMicroBatches(Llama(40));
        var bounded = Offload(Llama(40)) - Offload(WithHostLink(Llama(40), 250e9));
        Assert.Equal(microBatches * ((bytes / (14e12 / 72)) - (bytes / 250e9)), bounded.Seconds, 6);
    }

    [Fact]
    public void TheHostMemorysAlternative_WidensTheBand_WhereItBoundsTheMoves()
    {
        // At 194 GB/s a 79-layer offload shows on every move; the preliminary 18.4 TB/s (256 GB/s a GPU) reading moves
        // them to the 225 GB/s link, faster. The link's 450 GB/s reading changes nothing while the memory bounds it.
        var result = AnalyticalEngine.Simulate(Llama(79));
        var memory = Assert.Single(result.BandSources, source => source.StartsWith("host memory bandwidth 18.4 TB/s", StringComparison.Ordinal));
        Assert.Contains(": -", memory, StringComparison.Ordinal);
        var link = Assert.Single(result.BandSources, source => source.StartsWith("host link 450 GB/s", StringComparison.Ordinal));
        Assert.Contains(": 0.0%", link, StringComparison.Ordinal);
        Assert.DoesNotContain(AnalyticalEngine.Simulate(Llama(0)).BandSources, source => source.StartsWith("host", StringComparison.Ordinal));
    }

    [Fact]
    public void AHostMemoryWithoutItsBandwidth_OrWithAnUnknownKey_IsACatalogueError()
    {
        var missing = CatalogEdits.LoadWithChange("systems/nvidia-gb300-nvl72.yaml", "  bandwidth: {value: 14 TB/s, source: S24,", "  # bandwidth: {value: 14 TB/s, source: S24,");
        Assert.Contains(missing.Diagnostics, diagnostic => diagnostic.Field.Contains("bandwidth", StringComparison.Ordinal));
        var unknown = CatalogEdits.LoadWithChange("systems/nvidia-gb300-nvl72.yaml", "host_memory:", "host_memory:\n  speed: 1 TB/s");
        Assert.Contains(unknown.Diagnostics, diagnostic => diagnostic.Field == "host_memory.speed" && diagnostic.Message.Contains("capacity, bandwidth", StringComparison.Ordinal));
    }

    [Fact]
    public void WhatAChipOffloads_MustFitItsShareOfTheHostMemory()
    {
        var scenario = Llama(40);
        var result = AnalyticalEngine.Simulate(scenario);
        var perLayer = MemoryModel.ActivationsPerLayer(scenario.Model, scenario.Job, scenario.Plan, savedInputs: scenario.Framework.SavedMultiplyInputs).Stored;
        Within.Relative(40 * perLayer, result.HostMemory.Count, 1e-12);
        Assert.Equal(scenario.Cluster.System.HostMemoryPerChip, result.HostMemoryCapacity);
        Assert.True(result.HostMemoryFits);

        // A host with a tenth of the memory cannot hold the 40 layers: the step is timed but does not fit, and says why.
        var system = scenario.Cluster.System;
        var small = scenario with { Cluster = scenario.Cluster with { System = system with { HostMemory = system.HostMemory! with { Value = system.HostMemory.Value / 10 } } } };
        var cramped = AnalyticalEngine.Simulate(small);
        Assert.True(cramped.Valid);
        Assert.False(cramped.HostMemoryFits);
        Assert.False(cramped.Fits);
        Assert.Contains(cramped.Problems, problem => problem.Contains("host's memory", StringComparison.Ordinal));
        Assert.Equal(result.StepTime, cramped.StepTime);
        Assert.Null(AnalyticalEngine.Simulate(Llama(0)).HostMemoryCapacity);
    }

    [Theory]
    [InlineData("pipeline", "needs pipeline 1")]
    [InlineData("recompute", "does not combine with recompute")]
    [InlineData("layers", "fewer than Llama 3 70B's 80 layers")]
    [InlineData("host", "has no host link bandwidth")]
    [InlineData("framework", "does not offload activations as modelled")]
    public void APlanMegatronCoreWouldRefuse_IsInvalid(string change, string problem)
    {
        var llama = Llama(20);
        var scenario = change switch
        {
            "pipeline" => llama.WithPlan(plan => plan with { PipelineParallelism = 2, DataParallelism = 32 }),
            "recompute" => llama.WithPlan(plan => plan with { Recompute = RecomputePolicy.Full }),
            "layers" => Llama(80),
            "host" => llama with { Cluster = llama.Cluster with { System = llama.Cluster.System with { HostLink = null } } },
            _ => llama with { Framework = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"] },
        };
        var result = AnalyticalEngine.SimulateStep(scenario);
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, text => text.Contains(problem, StringComparison.Ordinal));
    }

    [Fact]
    public void ACaseNamesTheLayers_AndANegativeCountIsAClearError()
    {
        Assert.Equal(40, Recipe().Scenario.Plan.OffloadedLayers);
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "cases", "mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml"));
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.Load(folder.Write("mbridge2511-gb200-llama3-70b-64gpu-fp8-cs.yaml", text.Replace("offload_activations: 40", "offload_activations: -1", StringComparison.Ordinal)), Repository.Catalog));
        Assert.Equal("scenario.plan.offload_activations", Assert.Single(error.Diagnostics).Field);
    }
}
