using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Tests.Support;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Performance;

public class MemoryModelTests
{
    private static readonly ModelArchitecture Gpt175 = Repository.Catalog.Models["megatron-175b"];

    private static readonly int[] MicroBatchSizes = [1, 2, 4, 8];

    private static TrainingJob Job(bool dropout = true) => new(2048, 64, null, ClusterTwin.Hardware.Precision.Bf16, AttentionKernel.Standard, dropout);

    [Fact]
    public void ActivationsPerLayer_NoParallelism_IsKorthikantiEquation1()
    {
        // Korthikanti et al. 2022, eq. 1: sbh (34 + 5 a s / h) bytes per layer.
        var plan = new ParallelPlan(1, 1, 1, 1);
        var (stored, _) = MemoryModel.ActivationsPerLayer(Gpt175, Job(), plan);
        double s = 2048, b = 1, h = 12288, a = 96;
        Within.Relative(s * b * h * (34 + (5 * a * s / h)), stored, 1e-12);
    }

    [Fact]
    public void ActivationsPerLayer_TensorParallel_IsKorthikantiEquation2()
    {
        // eq. 2: sbh (10 + 24/t + 5 a s / (h t)).
        var plan = new ParallelPlan(8, 1, 1, 1);
        var (stored, _) = MemoryModel.ActivationsPerLayer(Gpt175, Job(), plan);
        double s = 2048, b = 1, h = 12288, a = 96, t = 8;
        Within.Relative(s * b * h * (10 + (24 / t) + (5 * a * s / (h * t))), stored, 1e-12);
    }

    [Fact]
    public void ActivationsPerLayer_SequenceParallelSelective_IsKorthikantiEquation5()
    {
        // eq. 5 with selective recompute: sbh (34 / t).
        var plan = new ParallelPlan(8, 1, 1, 1, SequenceParallelism: true, Recompute: RecomputePolicy.Selective);
        var (stored, _) = MemoryModel.ActivationsPerLayer(Gpt175, Job(), plan);
        Within.Relative(2048.0 * 12288 * 34 / 8, stored, 1e-12);
    }

    [Fact]
    public void ActivationsPerLayer_FullRecompute_KeepsOnlyTheLayerInput()
    {
        var plan = new ParallelPlan(8, 1, 1, 1, Recompute: RecomputePolicy.Full);
        var (stored, _) = MemoryModel.ActivationsPerLayer(Gpt175, Job(), plan);
        Within.Relative(2 * 2048.0 * 12288, stored, 1e-12);
    }

    [Theory]
    [InlineData(RecomputePolicy.None)]
    [InlineData(RecomputePolicy.Selective)]
    [InlineData(RecomputePolicy.Full)]
    public void Memory_GrowsWithMicroBatch(RecomputePolicy recompute)
    {
        var job = Job() with { GlobalBatchSize = 512 };
        var totals = MicroBatchSizes
            .Select(microBatch => MemoryModel.PerChip(Gpt175, job, new ParallelPlan(8, 8, 1, microBatch, Recompute: recompute)).Total.Count)
            .ToArray();
        Assert.True(totals.Zip(totals.Skip(1)).All(pair => pair.Second > pair.First), string.Join(", ", totals));
    }

    [Fact]
    public void Memory_FallsWithRecompute()
    {
        MemoryBreakdown With(RecomputePolicy recompute) => MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 1, 1, Recompute: recompute));
        Assert.True(With(RecomputePolicy.Selective).Total < With(RecomputePolicy.None).Total);
        Assert.True(With(RecomputePolicy.Full).Total < With(RecomputePolicy.Selective).Total);
    }

    [Fact]
    public void ZeroStages_ShardStateInOrder()
    {
        MemoryBreakdown With(int stage) => MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 8, 1, ZeroStage: stage));
        var (none, one, two, three) = (With(0), With(1), With(2), With(3));
        Within.Relative(none.OptimizerState.Count / 8, one.OptimizerState.Count, 1e-12);
        Within.Relative(one.Gradients.Count / 8, two.Gradients.Count, 1e-12);
        Within.Relative(two.Weights.Count / 8, three.Weights.Count, 1e-12);
        Assert.True(none.Total > one.Total && one.Total > two.Total && two.Total > three.Total);
    }

    [Fact]
    public void Interleaving_AddsKorthikantisFactor()
    {
        var plain = MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 1, 1));
        var interleaved = MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 1, 1, VirtualStages: 3));
        Assert.True(interleaved.Activations.Count > plain.Activations.Count * 1.2);
        Assert.True(interleaved.Activations.Count < plain.Activations.Count * (1 + (7.0 / 24) + 0.05));
    }

    [Theory]
    // 1F1B: p - rank micro-batches.
    [InlineData(8, 1, 0, 8.0)]
    [InlineData(8, 1, 7, 1.0)]
    // Interleaved, Megatron-LM's warm-up 2 (p - rank - 1) + (v - 1) p chunk passes and one in flight, a v-th each.
    [InlineData(8, 3, 0, (14 + 16 + 1) / 3.0)]
    [InlineData(8, 3, 1, (12 + 16 + 1) / 3.0)]
    [InlineData(8, 3, 7, (0 + 16 + 1) / 3.0)]      // the last rank still keeps more than five micro-batches' worth
    [InlineData(32, 3, 31, (0 + 64 + 1) / 3.0)]    // the model zoo's Qwen3-235B layout
    public void EachRank_KeepsItsScheduleWarmUp(int pipeline, int virtualStages, int rank, double expected)
    {
        var plan = new ParallelPlan(1, pipeline, 1, 1, virtualStages);
        // One layer's passes: the micro-batches' worth of the rank's layers it keeps.
        static double InFlight(ParallelPlan plan, int rank, double microBatches) => MemoryModel.LayerPassesInFlight(plan, rank, microBatches, rankLayers: 1, shortOuterChunk: false);
        Within.Relative(expected, InFlight(plan, rank, microBatches: 1000), 1e-12);
        // Interleaved, the first rank's is Korthikanti et al.'s p (1 + (p - 1) / (p v)).
        var first = virtualStages == 1 ? pipeline : pipeline * (1 + ((pipeline - 1) / (double)(pipeline * virtualStages)));
        Within.Relative(first, InFlight(plan, 0, 1000), 1e-12);
        // And never more than the step's micro-batches.
        Assert.True(InFlight(plan, rank, microBatches: 2) <= 2);
    }

    [Fact]
    public void AnEndRanksShortChunk_HoldsALayerFewerInEachOfItsOwnPasses()
    {
        // The model zoo's Qwen3-235B: 94 layers as 2, 3, ..., 3, 2 over 32 ranks of 3 chunks, the first rank's first
        // chunk the embedding's, the last rank's last the loss's. At the end of the warm-up the first rank holds 127
        // chunk passes, 63 of them of its empty first chunk (passes go in groups of 32 per chunk, cycling): 64 layer
        // passes, not 127 x 2 / 3; the last holds 65, one of its empty last chunk: 64, not 65 x 2 / 3.
        var plan = new ParallelPlan(2, 32, 4, 1, 3);
        var stages = PipelineLayers.Of(94, 32);
        Assert.True(stages.ShortOuterChunk(stages.First, 3));
        Assert.False(stages.ShortOuterChunk(stages.Middle, 3));
        Within.Relative(64, MemoryModel.LayerPassesInFlight(plan, 0, 512, stages.First, shortOuterChunk: true), 1e-12);
        Within.Relative(64, MemoryModel.LayerPassesInFlight(plan, 31, 512, stages.Last, shortOuterChunk: true), 1e-12);
        // A middle rank's chunks are whole: its passes times a layer each.
        Within.Relative((2 * 30) + 64 + 1, MemoryModel.LayerPassesInFlight(plan, 1, 512, stages.Middle, shortOuterChunk: false), 1e-12);
        // Overlapping expert communication with another micro-batch schedules one forward more (on the last rank it
        // falls in the empty chunk, so only the middle ranks hold more).
        Within.Relative((2 * 30) + 64 + 2, MemoryModel.LayerPassesInFlight(plan with { OverlapExpertCommunication = true }, 1, 512, stages.Middle, shortOuterChunk: false), 1e-12);
    }

    [Fact]
    public void HybridSharding_ShardsOverTheGroupOnly()
    {
        var whole = MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 8, 1, ZeroStage: 3));
        var hybrid = MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 8, 1, ZeroStage: 3, ShardingGroup: 2));
        Within.Relative(whole.OptimizerState.Count * 4, hybrid.OptimizerState.Count, 1e-12);
        Within.Relative(whole.Weights.Count * 4, hybrid.Weights.Count, 1e-12);
    }

    [Fact]
    public void AFrameworkKeepingOnlyTheFp32Shard_Holds16BytesPerParameter_Not18_AndOnlyUnderFullSharding()
    {
        MemoryBreakdown With(int stage, FullyShardedWeights weights) => MemoryModel.PerChip(Gpt175, Job(), new ParallelPlan(8, 8, 8, 1, ZeroStage: stage), weights);
        var megatron = With(3, FullyShardedWeights.ComputeAndMaster);
        var fsdp = With(3, FullyShardedWeights.MasterOnly);
        // The same parameters per chip: 2 + 12 bytes against 4 + 8, gradients and the rest unchanged.
        Within.Relative(megatron.Weights.Count * 2, fsdp.Weights.Count, 1e-12);
        Within.Relative(megatron.OptimizerState.Count * 8 / 12, fsdp.OptimizerState.Count, 1e-12);
        Assert.Equal(megatron.Gradients, fsdp.Gradients);
        Assert.Equal(megatron.Activations, fsdp.Activations);
        Within.Relative((megatron.Weights + megatron.Gradients + megatron.OptimizerState).Count * 16 / 18, (fsdp.Weights + fsdp.Gradients + fsdp.OptimizerState).Count, 1e-12);
        Assert.Equal(With(1, FullyShardedWeights.ComputeAndMaster), With(1, FullyShardedWeights.MasterOnly));
    }

    [Fact]
    public void TheFrameworksFullyShardedWeights_AreCatalogueData_AndAnUnknownKindIsAnError()
    {
        Assert.Equal(FullyShardedWeights.MasterOnly, Repository.Catalog.TrainingFrameworks["pytorch-fsdp"].FullyShardedWeights);
        Assert.Equal(FullyShardedWeights.MasterOnly, Repository.Catalog.TrainingFrameworks["maxtext"].FullyShardedWeights);
        Assert.Equal(FullyShardedWeights.ComputeAndMaster, Repository.Catalog.TrainingFrameworks["megatron-core"].FullyShardedWeights);

        var error = CatalogEdits.LoadWithChange("training-frameworks/pytorch-fsdp.yaml", "fully_sharded_weights: master-only", "fully_sharded_weights: fp32");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("fully_sharded_weights", diagnostic.Field);
        Assert.Contains("master-only", diagnostic.Message, StringComparison.Ordinal);
    }
}
