using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

/// <summary>Deduplicated dispatch, all-to-all overlap and capacity factors; DeepSeek-V3's latent attention and multi-token prediction; interleaved expert layers.</summary>
public class ExpertDispatchAndLatentAttentionTests
{
    /// <summary>Qwen3-235B-A22B on 256 H100 (TP2 PP8 EP32: the expert group spans four systems), under forced load balancing as the published runs.</summary>
    private static Scenario Qwen(ExpertDispatch dispatch = ExpertDispatch.AllToAll, bool overlap = false) => Repository.Example("gpt3-175b-h100-1024") is var basis
        ? basis with
        {
            Model = Repository.Catalog.Models["qwen3-235b-a22b"],
            Cluster = basis.Cluster with { SystemCount = 32 },
            Job = basis.Job with { SequenceLength = 4096, GlobalBatchSize = 2048, ForcedLoadBalance = true },
            Plan = basis.Plan with
            {
                TensorParallelism = 2, PipelineParallelism = 8, DataParallelism = 16, VirtualStages = 4, MicroBatchSize = 1, ExpertParallelism = 32,
                SequenceParallelism = true, ExpertDispatch = dispatch, OverlapExpertCommunication = overlap,
            },
        }
        : throw new InvalidOperationException();

    /// <summary>DeepSeek-V3 on 256 GB200 as Megatron-Bridge ran it in BF16 (TP1 PP4 VP4 EP64), with or without multi-token prediction.</summary>
    private static Scenario DeepSeek(bool prediction) => Repository.Example("gpt3-175b-h100-1024") is var basis
        ? basis with
        {
            Model = Repository.Catalog.Models["deepseek-v3"],
            Cluster = basis.Cluster with { SystemCount = 32 },
            Job = basis.Job with { SequenceLength = 4096, GlobalBatchSize = 4096, Precision = ClusterTwin.Hardware.Precision.Bf16, MultiTokenPrediction = prediction },
            Plan = basis.Plan with
            {
                TensorParallelism = 1, PipelineParallelism = 8, DataParallelism = 32, VirtualStages = 1, MicroBatchSize = 1, ExpertParallelism = 32,
                SequenceParallelism = false, Recompute = RecomputePolicy.Full, FirstStageLayers = 7, LastStageLayers = 6,
            },
        }
        : throw new InvalidOperationException();

    [Theory]
    [InlineData(128, 8, 4)]
    [InlineData(128, 8, 32)]
    [InlineData(256, 8, 8)]
    [InlineData(64, 6, 16)]
    public void PlacesReached_MatchesSampledRouting(int routed, int perToken, int places)
    {
        // k distinct experts drawn uniformly; experts sit in places in contiguous blocks of routed / places.
        var random = new Random(20261125);
        var experts = Enumerable.Range(0, routed).ToArray();
        const int Draws = 20_000;
        double reached = 0;
        for (var draw = 0; draw < Draws; draw++)
        {
            random.Shuffle(experts);
            reached += experts.Take(perToken).Select(expert => expert / (routed / places)).Distinct().Count();
        }

        Within.Relative(reached / Draws, ExpertExchange.PlacesReached(routed, perToken, places), 0.01);
    }

    [Fact]
    public void PlacesReached_AtTheEdges()
    {
        Assert.Equal(1, ExpertExchange.PlacesReached(128, 1, 32), 12);
        Assert.Equal(4, ExpertExchange.PlacesReached(8, 8, 4), 12);
        Assert.Equal(1, ExpertExchange.PlacesReached(128, 8, 1), 12);
    }

    [Fact]
    public void DeduplicatedDispatch_SendsLessAcrossTheNetwork_ThanOneCopyPerExpert()
    {
        var plain = AnalyticalEngine.SimulateStep(Qwen(ExpertDispatch.AllToAll)).Breakdown!.ExpertParallelCommunication;
        var deduplicated = AnalyticalEngine.SimulateStep(Qwen(ExpertDispatch.Deduplicated)).Breakdown!.ExpertParallelCommunication;
        // 8 experts over 4 systems: 2.7 remote systems per token against 6 remote copies; the network bounds both.
        Within.Relative(6 / (3 * (1 - (96.0 / 128 * 95 / 127 * 94 / 126 * 93 / 125 * 92 / 124 * 91 / 123 * 90 / 122 * 89 / 121))), plain / deduplicated, 0.05);
    }

    [Fact]
    public void DeduplicatedDispatch_WithOneExpertPerToken_IsThePlainAllToAll()
    {
        var scenario = Qwen();
        var single = scenario with { Model = scenario.Model with { MixtureOfExperts = scenario.Model.MixtureOfExperts! with { PerToken = 1 } } };
        var plain = AnalyticalEngine.SimulateStep(single).Breakdown!.ExpertParallelCommunication;
        var deduplicated = AnalyticalEngine.SimulateStep(single with { Plan = single.Plan with { ExpertDispatch = ExpertDispatch.Deduplicated } }).Breakdown!.ExpertParallelCommunication;
        Within.Relative(plain.Seconds, deduplicated.Seconds, 1e-9);
    }

    [Fact]
    public void OverlappedAllToAll_ShowsAtLeastTheShareOfTheChipItTakes_AndNoMoreThanWithoutOverlap()
    {
        var exposed = AnalyticalEngine.SimulateStep(Qwen()).Breakdown!.ExpertParallelCommunication;
        var overlapped = AnalyticalEngine.SimulateStep(Qwen(overlap: true)).Breakdown!.ExpertParallelCommunication;
        var overlap = Qwen().Framework.ExpertOverlap!;
        Assert.True(overlapped < exposed);
        Assert.True(overlapped.Seconds >= (exposed.Seconds * overlap.CommunicationComputeShare) - 1e-12);
        Assert.True(overlapped.Seconds >= exposed.Seconds * (1 - overlap.Realized) - 1e-12, "the published runs hide less than the ideal pairing");
    }

    [Fact]
    public void TheOverlap_IsTheFrameworksData_IdealWithoutOne_AndRefusedByAFrameworkThatDoesNotOverlap()
    {
        var scenario = Qwen(overlap: true);
        var megatron = AnalyticalEngine.SimulateStep(scenario).Breakdown!.ExpertParallelCommunication;
        var ideal = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework with { ExpertOverlap = ExpertOverlap.Ideal } }).Breakdown!.ExpertParallelCommunication;
        Assert.True(ideal < megatron, $"{ideal} against {megatron}");
        // The none framework is the ideal overlap with no launch times.
        var idealWithoutLaunches = scenario.Framework with { ExpertOverlap = ExpertOverlap.Ideal, ExpertLaunch = Duration.Zero, ExpertQuantizeLaunch = Duration.Zero };
        Assert.Equal(AnalyticalEngine.SimulateStep(scenario with { Framework = idealWithoutLaunches }).Breakdown!.ExpertParallelCommunication,
            AnalyticalEngine.SimulateStep(scenario with { Framework = TrainingFramework.None }).Breakdown!.ExpertParallelCommunication);
        var halfAsGood = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework with { ExpertOverlap = scenario.Framework.ExpertOverlap! with { Realized = 0.2 } } }).Breakdown!.ExpertParallelCommunication;
        Assert.True(halfAsGood > megatron, $"{halfAsGood} against {megatron}");

        var compiled = AnalyticalEngine.SimulateStep(scenario with { Framework = Repository.Catalog.TrainingFrameworks["neuronx-distributed"] });
        Assert.False(compiled.Valid);
        Assert.Contains(compiled.Problems, problem => problem.Contains("neuronx-distributed does not overlap expert communication", StringComparison.Ordinal));
        Assert.True(AnalyticalEngine.SimulateStep(Qwen() with { Framework = Repository.Catalog.TrainingFrameworks["neuronx-distributed"] }).Valid, "without the overlap the plan is valid");
    }

    [Fact]
    public void QwensMeasuredRoutingSkew_LoadsTheBusiestChip_UnlessTheRouterIsForcedToBalance()
    {
        var scenario = Qwen();
        var experts = scenario.Model.MixtureOfExperts!;
        Assert.Equal(1.78, experts.RoutingSkew);
        Assert.Contains("moe-router-force-load-balancing", experts.RoutingSkewDerivation, StringComparison.Ordinal);
        // Measured at 16 local experts (EP8); this plan's EP32 leaves 4, where the excess doubles: sqrt(16 / 4).
        Assert.Equal(16, experts.RoutingSkewExpertsPerChip);
        Assert.Equal(1.78, experts.RoutingSkewAt(16), 12);
        Assert.Equal(1 + (0.78 / 2), experts.RoutingSkewAt(64), 12);
        Assert.Equal(32, scenario.Plan.ExpertParallelism);
        Assert.True(scenario.Job.ForcedLoadBalance);
        var droplessJob = scenario.Job with { ForcedLoadBalance = false };
        var dropless = LayerKernels.LoadImbalance(experts, droplessJob, scenario.Plan);
        var forced = LayerKernels.LoadImbalance(experts, scenario.Job, scenario.Plan);
        Assert.True(forced > 1, "random routing still spreads unevenly");
        Within.Relative(forced * (1 + (0.78 * 2)), dropless, 1e-12);
        Assert.True(AnalyticalEngine.SimulateStep(scenario with { Job = droplessJob }).StepTime > AnalyticalEngine.SimulateStep(scenario).StepTime);
    }

    [Theory]
    [InlineData("16k", 295, 237)]
    [InlineData("32k", 335, 277)]
    [InlineData("64k", 368, 320)]
    [InlineData("128k", 389, 357)]
    public void TheSkew_StillReproducesTheMeasuredDroplessSlowdowns_ItWasDerivedFrom(string context, double forcedTflops, double droplessTflops)
    {
        // The model zoo's pairs of the same run with and without forced balancing: if a later change to the step model
        // moves the simulated ratio away from the measured one, the skew's derivation is stale and must be redone.
        var forced = ValidationCaseLoader.Load(Repository.Path("validation", "cases", $"moezoo-h100-qwen3-235b-{context}.yaml"), Repository.Catalog);
        var dropless = ValidationCaseLoader.Load(Repository.Path("validation", "cases", $"moezoo-h100-qwen3-235b-{context}-dropless.yaml"), Repository.Catalog);
        Assert.True(forced.Scenario.Job.ForcedLoadBalance);
        Assert.False(dropless.Scenario.Job.ForcedLoadBalance);
        var simulated = AnalyticalEngine.SimulateStep(dropless.Scenario).StepTime / AnalyticalEngine.SimulateStep(forced.Scenario).StepTime;
        Assert.InRange(simulated, (forcedTflops / droplessTflops) - 0.025, (forcedTflops / droplessTflops) + 0.025);
    }

    [Fact]
    public void ARoutingSkewWithoutItsDerivation_IsACatalogueError()
    {
        // The derivation block runs from its key to the model's note.
        var text = File.ReadAllText(Repository.Path("catalog", "models", "qwen3-235b-a22b.yaml"));
        var start = text.IndexOf("  routing_skew_derivation:", StringComparison.Ordinal);
        var derivation = text[start..(text.IndexOf("\nnote:", start, StringComparison.Ordinal) + 1)];
        var error = CatalogEdits.LoadWithChange("models/qwen3-235b-a22b.yaml", derivation, string.Empty);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "mixture_of_experts.routing_skew" && diagnostic.Message.Contains("needs routing_skew_derivation", StringComparison.Ordinal));
    }

    [Fact]
    public void CapacityFactor_PadsEveryExpertToItsCapacity()
    {
        var scenario = Qwen();
        var dropless = AnalyticalEngine.SimulateStep(scenario);
        var padded = AnalyticalEngine.SimulateStep(scenario with { Job = scenario.Job with { ExpertCapacityFactor = 2 } });
        Assert.True(padded.Breakdown!.Compute > dropless.Breakdown!.Compute, "twice the average load on every expert costs more than balanced routing's spread");
        Within.Relative(dropless.Breakdown.ExpertParallelCommunication.Seconds * 2, padded.Breakdown.ExpertParallelCommunication.Seconds, 0.15);
        Assert.True(padded.HardwareFlopsPerStep > dropless.HardwareFlopsPerStep, "the padding is executed");
        Assert.Equal(dropless.ModelFlopsPerStep, padded.ModelFlopsPerStep);
    }

    [Fact]
    public void DeepSeekV3_HasThePublishedParameterCounts()
    {
        var model = Repository.Catalog.Models["deepseek-v3"];
        Within.Relative(671e9, model.Parameters, 0.005);
        Within.Relative(37e9, model.ActiveParameters, 0.02);
        // The report's 14B multi-token prediction module includes the shared embedding and head.
        Within.Relative(14e9, model.MultiTokenPredictionModuleParameters + model.EmbeddingParameters + model.OutputHeadParameters, 0.05);
        Assert.Equal(58, model.ExpertLayerCount);
    }

    [Fact]
    public void LatentAttention_SplitsOnlyItsUpProjectionsAcrossTheTensorGroup()
    {
        var model = Repository.Catalog.Models["deepseek-v3"];
        var latent = model.LatentAttention!;
        double hidden = model.HiddenSize;
        var replicated = (hidden * latent.QueryRank) + latent.QueryRank + (hidden * (latent.KeyValueRank + latent.RotaryHeadSize)) + latent.KeyValueRank + (4 * hidden);
        var split = model.AttentionParametersPerRank(1) - replicated;
        Within.Relative(replicated + (split / 8), model.AttentionParametersPerRank(8), 1e-12);
        Within.Relative(187.1e6, model.AttentionParametersPerRank(1), 0.001);
    }

    [Fact]
    public void LatentAttention_CountsItsQueryKeyAndValueWidthsInTheAttentionFlops()
    {
        var model = Repository.Catalog.Models["deepseek-v3"];
        var job = DeepSeek(prediction: false).Job;
        var asMultiHead = model with { LatentAttention = null, HeadSize = 160 };
        // Per layer and token, 2 s h (192 + 128) equals 4 s h 160: the same attention work as 160-wide heads. Halving the
        // sequence at equal tokens leaves the multiplies' work and changes only attention's.
        var shorter = job with { SequenceLength = job.SequenceLength / 2, GlobalBatchSize = job.GlobalBatchSize * 2 };
        double AttentionShare(ModelArchitecture shape) =>
            AnalyticalEngine.ModelFlops(shape, job).Operations - AnalyticalEngine.ModelFlops(shape, shorter).Operations;
        Within.Relative(AttentionShare(asMultiHead), AttentionShare(model), 1e-9);
        Assert.True(AttentionShare(model) > 0);
    }

    [Fact]
    public void MultiTokenPrediction_CostsALayerAndAHeadOnTheLastStage()
    {
        var with = AnalyticalEngine.SimulateStep(DeepSeek(prediction: true));
        var without = AnalyticalEngine.SimulateStep(DeepSeek(prediction: false));
        Assert.True(with.Valid && without.Valid, string.Join("; ", with.Problems.Concat(without.Problems)));
        Assert.True(with.StepTime > without.StepTime);
        Assert.True(with.ModelFlopsPerStep > without.ModelFlopsPerStep);
        var model = Repository.Catalog.Models["deepseek-v3"];
        var share = (with.ModelFlopsPerStep.Operations / without.ModelFlopsPerStep.Operations) - 1;
        Assert.InRange(share, 0.5 / model.Layers, 3.0 / model.Layers);
        var job = DeepSeek(prediction: true).Job;
        Assert.True(ClusterTwin.Performance.Memory.StageParameters.Of(model, job, DeepSeek(true).Plan).Last >
                    ClusterTwin.Performance.Memory.StageParameters.Of(model, job with { MultiTokenPrediction = false }, DeepSeek(true).Plan).Last);
    }

    [Fact]
    public void InterleavedExpertLayers_AreCountedLayerByLayer()
    {
        var maverick = Repository.Catalog.Models["llama4-maverick"];
        Assert.Equal(24, maverick.ExpertLayerCount);
        Within.Relative(400e9, maverick.Parameters, 0.01);
        Within.Relative(17e9, maverick.ActiveParameters, 0.02);
        foreach (var experts in new[] { maverick.MixtureOfExperts!, new ExpertLayers(64, 2, 1024, DenseLayers: 3, Interval: 3), new ExpertLayers(64, 2, 1024, DenseLayers: 1) })
        {
            bool IsExpert(int layer) => layer >= experts.DenseLayers && (layer - experts.DenseLayers + 1) % experts.Interval == 0;
            for (var start = 0; start < 48; start++)
            {
                for (var count = 0; start + count <= 48; count++)
                {
                    Assert.Equal(Enumerable.Range(start, count).Count(IsExpert), experts.ExpertLayersIn(start, count));
                }
            }
        }
    }

    [Fact]
    public void ExplicitStageLayers_PlaceTheLayersAsWritten_OrAreAnError()
    {
        var plan = DeepSeek(false).Plan with { PipelineParallelism = 4, DataParallelism = 64, ExpertParallelism = 64, VirtualStages = 4, FirstStageLayers = 15, LastStageLayers = 14 };
        var placed = PipelineLayers.Of(61, plan);
        Assert.Equal((15, 16, 14), (placed.First, placed.Middle, placed.Last));
        Assert.True(placed.Holds(4));
        Assert.False(PipelineLayers.Of(61, 4).Places, "the default rule allows one layer fewer at each end, not three");
        var result = AnalyticalEngine.SimulateStep(DeepSeek(false) with { Plan = plan with { LastStageLayers = 13 } });
        Assert.Contains(result.Problems, problem => problem.Contains("cannot share evenly", StringComparison.Ordinal));

        // A count on one end only: the other ranks share the rest evenly, as Megatron-LM places them.
        var oneSided = PipelineLayers.Of(61, plan with { PipelineParallelism = 8, FirstStageLayers = 5, LastStageLayers = null });
        Assert.Equal((5, 8, 8), (oneSided.First, oneSided.Middle, oneSided.Last));
        Assert.True(oneSided.Places);
        var two = PipelineLayers.Of(61, plan with { PipelineParallelism = 2, FirstStageLayers = null, LastStageLayers = 29 });
        Assert.Equal((32, 29), (two.First, two.Last));
        Assert.True(two.Places);

        // Every rank, the middle ones included, needs a layer per chunk.
        Assert.False(PipelineLayers.Of(61, plan with { FirstStageLayers = 29, LastStageLayers = 28 }).Holds(4));
        var single = AnalyticalEngine.SimulateStep(DeepSeek(false) with { Plan = plan with { PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 256 } });
        Assert.Contains(single.Problems, problem => problem.Contains("need pipeline parallelism above 1", StringComparison.Ordinal));
    }

    [Fact]
    public void ACrossVendorComparison_RunsEachSystemOnItsOwnFramework_WithoutAnOverlapTheFrameworkDoesNotDo()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "compare-moe", "qwen3-235b-trn2-ultraserver.yaml"))
            .Replace("plan:\n", "plan:\n  overlap_expert_communication: true\n", StringComparison.Ordinal)
            .Replace("  count: 1\n", "  count: 1\n  fabric: infiniband-ndr-fat-tree\n", StringComparison.Ordinal);
        var planning = ClusterTwin.Catalog.ScenarioLoader.LoadForPlanning(folder.Write("overlap.yaml", text), Repository.Catalog);
        var systems = new[] { Repository.Catalog.Systems["nvidia-dgx-h100"], Repository.Catalog.Systems["aws-trn2-ultraserver"] };
        var comparison = ClusterTwin.Claims.WorkloadComparison.Run(planning, systems, 64, Repository.Catalog);
        var (nvidia, trainium) = (comparison.Runs[0], comparison.Runs[1]);
        Assert.True(nvidia.Result.Valid && trainium.Result.Valid, string.Join("; ", nvidia.Result.Problems.Concat(trainium.Result.Problems)));
        Assert.True(nvidia.Plan!.OverlapExpertCommunication, "Megatron-Core overlaps");
        Assert.False(trainium.Plan!.OverlapExpertCommunication, "NeuronX Distributed does not");
    }
}
