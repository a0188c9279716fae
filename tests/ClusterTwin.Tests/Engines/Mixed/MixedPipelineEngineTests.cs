using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines.Mixed;

public class MixedPipelineEngineTests
{
    /// <summary>Llama 3 405B over 16 stages of 72 Trainium4 (tensor 4 x data 18): 126 layers fall 7, 8, ..., 8, 7.</summary>
    private const string Homogeneous = """
        name: Llama 3 405B on 16 Trainium4 racks
        cluster: {system: aws-trn4-nvlink-fusion-rack, chips: 1152, fabric: aws-efa-ultracluster}
        model: llama3-405b
        training: {sequence_length: 8192, global_batch: 576, precision: fp8, attention: flash}
        plan: {tensor: 4, pipeline: 16, data: 18, micro_batch: 1, sequence_parallel: true, recompute: selective, zero: 1}
        """;

    private static Scenario Load(string text)
    {
        using var folder = new TemporaryFolder();
        return ScenarioLoader.Load(folder.Write("scenario.yaml", text), Repository.Catalog);
    }

    /// <summary>The homogeneous scenario with its first stage (7 layers) moved to a "second kind" that is the same chip.</summary>
    private static Scenario SameChipTwice() => Load(Homogeneous.Replace("chips: 1152", "chips: 1080", StringComparison.Ordinal) +
        "\nmixed_pipeline: {system: aws-trn4-nvlink-fusion-rack, stages: 1, layers_per_stage: 7}\n");

    private static Scenario RubinThenTrainium4(string extra = "") => Load(Homogeneous.Replace("chips: 1152", "chips: 1008", StringComparison.Ordinal) +
        "\nmixed_pipeline: {system: nvidia-vera-rubin-nvl72, stages: 2, framework: megatron-core" + extra + "}\n");

    [Fact]
    public void OneKindOfChipOnBothSides_ReplaysTheHomogeneousPipeline()
    {
        var homogeneous = Load(Homogeneous);
        var mixed = MixedPipelineEngine.Simulate(SameChipTwice());
        Assert.True(mixed.Valid, string.Join("; ", mixed.Problems));

        // Every rank's work is the homogeneous engine's, bit for bit, and so is the replay of the pipeline.
        var stages = AnalyticalEngine.Stages(homogeneous)!;
        Assert.Equal(stages.Ranks.AsEnumerable(), mixed.Timeline!.Stages.Ranks.AsEnumerable());
        Assert.Equal(stages.Send, mixed.Timeline.Stages.Send);
        var replay = PipelineTimeline.Of(stages);
        Assert.Equal(replay.Pipeline, mixed.Timeline.Pipeline);

        // After the pipeline each kind reduces behind its own slowest stage, where the closed form takes the slowest
        // of all: the step moves by microseconds in seconds.
        Within.Relative(replay.StepTime.Seconds, mixed.StepTime.Seconds, 1e-4);

        // The most loaded chip is the closed form's, rank by rank.
        var heaviest = mixed.Pools.Max(pool => pool.Memory.Total.Count);
        Within.Relative(MemoryModel.PerChip(homogeneous.Model, homogeneous.Job, homogeneous.Plan).Total.Count, heaviest, 1e-12);
        Assert.Equal([7], mixed.Pools[0].Layers.AsEnumerable());
        Assert.Equal(126, mixed.Pools.Sum(pool => pool.Layers.Sum()));
    }

    [Fact]
    public void TheBalancedPlacement_HasNoSlowerStageThanAnyPlacementTheScenarioCouldGive()
    {
        var balanced = MixedPipelineEngine.Simulate(RubinThenTrainium4());
        Assert.True(balanced.Valid, string.Join("; ", balanced.Problems));
        Assert.True(balanced.LayersBalanced);
        var slowest = balanced.Timeline!.Stages.SlowestRank;
        var tried = 0;
        for (var layers = 1; layers * 2 <= 126 - 14; layers++)
        {
            var given = MixedPipelineEngine.Simulate(RubinThenTrainium4($", layers_per_stage: {layers}"));
            Assert.True(given.Valid, string.Join("; ", given.Problems));
            Assert.False(given.LayersBalanced);
            Assert.Equal(layers, given.Pools[0].Layers[0]);
            Assert.True(given.Timeline!.Stages.SlowestRank >= slowest, $"{layers} layers per Rubin stage: {given.Timeline.Stages.SlowestRank} against the balanced {slowest}");
            tried++;
        }

        Assert.Equal(56, tried);

        // Rubin runs a layer faster than Trainium4, so its stages take more of them.
        Assert.True(balanced.Pools[0].Layers[0] > balanced.Pools[1].Layers.Max());
    }

    [Fact]
    public void EachKindDoesItsShareOfTheWork_OnItsOwnPowerAndPrices()
    {
        var mixed = MixedPipelineEngine.Simulate(RubinThenTrainium4());
        Within.Relative(1, mixed.Pools.Sum(pool => pool.WorkShare), 1e-12);
        Assert.All(mixed.Pools, pool => Assert.NotNull(pool.Energy));
        Assert.All(mixed.Pools, pool => Assert.NotNull(pool.Cost));
        Assert.Equal(144, mixed.Pools[0].Chips);
        Assert.Equal(1008, mixed.Pools[1].Chips);
        Assert.Equal(mixed.Pools.Sum(pool => pool.Energy!.FacilityPerStep.Joules), mixed.FacilityEnergyPerStep!.Value.Joules);
        Assert.NotEqual(mixed.Pools[0].Energy!.PowerLimit, mixed.Pools[1].Energy!.PowerLimit);

        // MFU counts both kinds' peaks: it lies between what the step would be on either kind's peak alone.
        var model = mixed.ModelFlopsPerStep.Operations / mixed.StepTime.Seconds / mixed.Chips;
        var peaks = mixed.Pools.Select(pool => pool.PeakRatePerChip.OperationsPerSecond).ToArray();
        Assert.InRange(mixed.ModelFlopsUtilization, model / peaks.Max(), model / peaks.Min());
    }

    [Fact]
    public void TheSameScenario_GivesTheSameStep_BitForBit()
    {
        var (one, other) = (MixedPipelineEngine.Simulate(RubinThenTrainium4()), MixedPipelineEngine.Simulate(RubinThenTrainium4()));
        Assert.Equal(one.StepTime, other.StepTime);
        Assert.Equal(one.Pools.Select(pool => pool.Energy!.FacilityPerStep).AsEnumerable(), other.Pools.Select(pool => pool.Energy!.FacilityPerStep).AsEnumerable());
    }

    [Fact]
    public void APrecisionOneKindDoesNotRun_IsAProblemNamingThatKind()
    {
        var text = Homogeneous.Replace("chips: 1152", "chips: 1080", StringComparison.Ordinal).Replace("precision: fp8", "precision: mxfp4", StringComparison.Ordinal) +
            "\nmixed_pipeline: {system: nvidia-dgx-h100, stages: 1}\n";
        var mixed = MixedPipelineEngine.Simulate(Load(text));
        Assert.False(mixed.Valid);
        Assert.Contains(mixed.Problems, problem => problem.StartsWith("NVIDIA H100", StringComparison.Ordinal) && problem.Contains("fp4", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void StagesThatCannotReachEachOther_AreProblems_NotFreeSends()
    {
        // 64 TPU v4 cubes have no scale-out network in the catalogue, and share no scale-up domain with DGX H100s.
        var mixed = MixedPipelineEngine.Simulate(Load("""
            name: TPU v4 cubes before DGX H100
            cluster: {system: nvidia-dgx-h100, chips: 448, fabric: infiniband-ndr-fat-tree}
            mixed_pipeline: {system: google-tpu-v4-cube, stages: 2, framework: maxtext}
            model: llama3-405b
            training: {sequence_length: 8192, global_batch: 512, precision: bf16, attention: flash}
            plan: {tensor: 4, pipeline: 16, data: 8, micro_batch: 1, sequence_parallel: true, recompute: selective, zero: 1}
            """));
        Assert.False(mixed.Valid);
        Assert.Contains(mixed.Problems, problem => problem.Contains("the two kinds' stages cannot send to each other", StringComparison.Ordinal));
    }

    [Fact]
    public void Stragglers_AreDrawnOverBothKindsStages_AsOverOneKinds()
    {
        var settings = new ClusterTwin.Reliability.StragglerSettings(0.012, null, 0, 1, 200, 7);
        var mixed = MixedPipelineEngine.Simulate(RubinThenTrainium4() with { Stragglers = settings });
        var draws = mixed.Stragglers!;
        Assert.Equal(200, draws.Steps.Length);
        Assert.True(draws.Slowdown > 0, $"slowdown {draws.Slowdown}");
        Assert.Equal(mixed.StepTime, draws.EvenStep);

        // The draws are the event-level engine's over these stages, each stage shared by tensor x data = 72 chips.
        var direct = StragglerDraws.Of(mixed.Timeline!.Stages, mixed.Chips, settings);
        Assert.Equal(direct.Steps.AsEnumerable(), draws.Steps.AsEnumerable());
        Assert.Equal(72, draws.ChipsPerRank);
    }
}
