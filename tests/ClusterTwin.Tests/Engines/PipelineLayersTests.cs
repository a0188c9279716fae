using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

public class PipelineLayersTests
{
    [Theory]
    [InlineData(96, 8, 12, 12, 12)]
    [InlineData(126, 16, 7, 8, 7)]     // Llama 3 405B as Meta ran it: one layer fewer on the first and the last stage
    [InlineData(80, 3, 26, 27, 27)]     // a shortfall of one falls on the first rank, which has the most in flight
    [InlineData(10, 2, 5, 5, 5)]
    [InlineData(9, 2, 4, 5, 5)]
    [InlineData(10, 1, 10, 10, 10)]
    public void Layers_FallEvenly_WithTheShortfallOnTheEnds(int layers, int pipeline, int first, int middle, int last)
    {
        var stages = PipelineLayers.Of(layers, pipeline);
        Assert.Equal((first, middle, last), (stages.First, stages.Middle, stages.Last));
        Assert.True(stages.Places);
        Assert.Equal(layers, pipeline == 1 ? first : first + last + ((pipeline - 2) * middle));
    }

    [Theory]
    [InlineData(96, 10)]    // 10 layers per rank would leave the ends 4 short between them
    [InlineData(96, 64)]
    [InlineData(96, 128)]
    public void DepthsNeedingMoreThanOneLayerFewerPerEnd_DoNotPlace(int layers, int pipeline)
    {
        var stages = PipelineLayers.Of(layers, pipeline);
        Assert.False(stages.Places);
        Assert.False(stages.Holds(1));
    }

    [Fact]
    public void PipelineDeeperThanTheLayers_IsRejectedWithItsOwnReason()
    {
        var scenario = Repository.Example("llama3-70b-trn2-ultraserver");
        var result = AnalyticalEngine.SimulateStep(scenario.WithPlan(plan => plan with { PipelineParallelism = 128, VirtualStages = 1, DataParallelism = 1, TensorParallelism = 8 }));
        Assert.Contains(result.Problems, problem => problem.Contains("pipeline 128 is deeper than the 80 layers", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(126, 16, 2, true)]
    [InlineData(126, 16, 8, true)]     // the first rank's 7 layers make 8 chunks with the embedding as the first
    [InlineData(94, 32, 3, true)]      // the model zoo's Qwen3-235B: 96 with the embedding and the loss, 32 ranks of 3 chunks
    [InlineData(126, 16, 16, false)]   // 16 does not divide the middle ranks' 8
    [InlineData(96, 8, 5, false)]      // 5 does not divide 12
    [InlineData(96, 8, 4, true)]
    [InlineData(5, 2, 3, true)]        // 2 and 3 layers: the first rank's first chunk is the embedding
    [InlineData(127, 16, 8, true)]     // one short: the embedding alone counted
    [InlineData(30, 32, 1, false)]     // deeper than the layers: ranks without a layer
    [InlineData(48, 2, 5, true)]       // 48 as 50 on two ranks of 5 chunks, the embedding and the loss one each
    [InlineData(48, 2, 7, false)]      // neither 24 nor 25 divides by 7
    public void VirtualStages_MustDivideTheHeaviestRank_AndLeaveALayerPerChunk_ButTheEmbeddingOrLossMayFillOne(int layers, int pipeline, int virtualStages, bool holds) =>
        Assert.Equal(holds, PipelineLayers.Of(layers, pipeline).Holds(virtualStages));

    [Fact]
    public void TheDefaultPlacement_HoldsExactlyTheLayoutsMegatronLMCanRun()
    {
        // Both ways: every depth and chunk count the engine accepts Megatron-LM can run (with or without counting the
        // embedding and the loss as layers), and every one it can run the engine accepts.
        for (var layers = 1; layers <= 130; layers++)
        {
            for (var pipeline = 2; pipeline <= 16; pipeline++)
            {
                for (var chunks = 1; chunks <= 12; chunks++)
                {
                    Assert.True(Planning.PlanSearchTests.Placeable(layers, pipeline, chunks) == PipelineLayers.Of(layers, pipeline).Holds(chunks), $"{layers} layers, pipeline {pipeline}, {chunks} chunks");
                }
            }
        }
    }

    [Fact]
    public void AnExplicitPlacement_OfTheSameLayout_HoldsAsTheDefaultOne()
    {
        // The model zoo's 2, 3, ..., 3, 2 over 32 ranks of 3 chunks, written out.
        var plan = new ParallelPlan(2, 32, 4, 1, 3, true, RecomputePolicy.None, 1) { FirstStageLayers = 2, LastStageLayers = 2 };
        var written = PipelineLayers.Of(94, plan);
        Assert.True(written.Explicit);
        Assert.Equal(PipelineLayers.Of(94, 32).Holds(3), written.Holds(3));
        Assert.True(written.Holds(3));
        Assert.False(written.Holds(4));   // 4 chunks of a middle rank's 3 layers
    }

    [Fact]
    public void UnevenPipeline_IsTimedBetweenTheEvenSplitsAroundIt()
    {
        // Llama 3 405B (126 layers) on 16 stages: its middle ranks hold 8 layers, so its step sits between the same
        // model cut to 112 layers (7 on every rank) and grown to 128 (8 on every rank, the head on top of 8).
        var scenario = Repository.Example("llama3-405b-trainium3-1m");
        var sixteen = scenario with
        {
            Cluster = scenario.Cluster with { SystemCount = 16 },
            Plan = scenario.Plan with { PipelineParallelism = 16, VirtualStages = 2, DataParallelism = 18 },
            Job = scenario.Job with { GlobalBatchSize = 18 * 32 },
        };
        double Step(int layers) => AnalyticalEngine.SimulateStep(sixteen with { Model = sixteen.Model with { Layers = layers } }).StepTime.Seconds;
        var uneven = AnalyticalEngine.SimulateStep(sixteen);
        Assert.True(uneven.Valid, string.Join("; ", uneven.Problems));
        Assert.InRange(uneven.StepTime.Seconds, Step(112), Step(128));
        var parameters = StageParameters.Of(sixteen.Model, sixteen.Job, sixteen.Plan);
        Assert.Equal(parameters.Middle, parameters.Heaviest);
    }

    [Theory]
    [InlineData(48, 8, 2, 0)]   // 6 layers per rank: every middle rank alike
    [InlineData(45, 5, 2, 0)]   // 9 per rank: the middle ranks alternate 5 and 4 dense layers
    [InlineData(61, 7, 3, 3)]   // leading dense layers, then one expert layer in three
    [InlineData(61, 8, 1, 3)]   // DeepSeek-V3's shape: the dense layers lead
    public void MiddleDenseLayers_AreTheFewestAndMostOfAnyMiddleRank(int layers, int pipeline, int interval, int denseLayers)
    {
        var model = Repository.Catalog.Models["qwen3-235b-a22b"] is var basis
            ? basis with { Layers = layers, MixtureOfExperts = basis.MixtureOfExperts! with { Interval = interval, DenseLayers = denseLayers } }
            : throw new InvalidOperationException();
        var stages = PipelineLayers.Of(layers, pipeline);
        var counts = Enumerable.Range(1, pipeline - 2).Select(rank => model.DenseLayersIn(stages.First + ((rank - 1) * stages.Middle), stages.Middle)).ToArray();
        Assert.Equal((counts.Min(), counts.Max()), stages.MiddleDenseLayers(model, pipeline));
    }
}
