using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

public class PlacementTests
{
    [Fact]
    public void TensorPipelineData_PutsAReplicaInsideEachUltraServer()
    {
        var scenario = Repository.Example("llama3-405b-trainium3-1m");
        Assert.Equal(RankOrder.TensorPipelineData, scenario.Plan.Order);
        var strides = RankStrides.Of(scenario.Plan);
        var pipeline = GroupPlacement.Place(scenario.Cluster, scenario.Plan.PipelineParallelism, strides.Pipeline);
        var data = GroupPlacement.Place(scenario.Cluster, scenario.Plan.DataParallelism, strides.Data);
        Assert.False(pipeline.CrossesFabric);
        Assert.Equal(1, data.MembersPerSystem);
        Assert.Equal(6944, data.SystemsSpanned);
        Assert.True(pipeline.Aligned && data.Aligned);
        Assert.Empty(AnalyticalEngine.Simulate(scenario).Warnings);
    }

    [Fact]
    public void TensorDataPipeline_SendsPipelineTrafficOverTheFabric()
    {
        var scenario = Repository.Example("llama3-405b-trainium3-1m").WithPlan(plan => plan with { Order = RankOrder.TensorDataPipeline });
        var strides = RankStrides.Of(scenario.Plan);
        Assert.True(GroupPlacement.PlaceNeighbours(scenario.Cluster, scenario.Plan.PipelineParallelism, strides.Pipeline).CrossesFabric);
        var inside = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        var across = AnalyticalEngine.Simulate(scenario);
        Assert.True(across.Breakdown!.PipelineCommunication > inside.Breakdown!.PipelineCommunication);
    }

    [Fact]
    public void MisalignedGroups_AreCostedAsAnUpperBound_AndFlagged()
    {
        // Data-parallel blocks of 8 x 16 = 128 ranks on 144-chip systems: some blocks straddle two UltraServers.
        var scenario = Repository.Example("llama3-405b-trainium3-1m").WithPlan(plan => plan with { Order = RankOrder.TensorDataPipeline });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.Contains(result.Warnings, warning => warning.Contains("do not line up with the 144-chip systems", StringComparison.Ordinal));
    }

    [Fact]
    public void GroupedQueryHeads_BeyondTheKeyValueHeads_AreReplicated()
    {
        var model = Repository.Catalog.Models["llama3-70b"];
        Assert.Equal(model.HeadSize, model.KeyValueWidthPerRank(16));
        Assert.Equal(model.HeadSize, model.KeyValueWidthPerRank(8));
        Assert.Equal(2 * model.HeadSize, model.KeyValueWidthPerRank(4));
        Assert.True(model.ParametersPerLayerPerRank(16) > model.ParametersPerLayer / 16);
    }

    [Fact]
    public void KeyValueHeads_AreReplicatedPerRank_OnAChipThatRunsSeveral()
    {
        // Llama 3 70B's 8 key-value heads: a chip of two ranks holds what two chips of one rank hold together.
        var model = Repository.Catalog.Models["llama3-70b"];
        Assert.Equal(2 * model.HeadSize, model.KeyValueWidthPerRank(16, ranksPerChip: 2));
        Assert.Equal(2 * model.HeadSize, model.KeyValueWidthPerRank(4, ranksPerChip: 2));
        Assert.Equal(model.KeyValueWidthPerRank(2), model.KeyValueWidthPerRank(2, ranksPerChip: 2));
        Assert.Equal(4 * model.HeadSize, model.KeyValueWidthPerRank(16, ranksPerChip: 4));
        Assert.True(model.ParametersKeptWholePerRank(16, ranksPerChip: 2) > model.ParametersKeptWholePerRank(16));
    }

    [Fact]
    public void MixtureOfExpertsLayers_ReplicateKeyValueWeightsPerRank_Too()
    {
        // Qwen3-235B's 4 key-value heads over tensor 4 x 4 ranks on Trainium2: each of the 16 ranks keeps one, in its
        // expert layers' attention weights as in its work.
        var scenario = Repository.Example("compare-moe/qwen3-235b-trn2-ultraserver").WithPlan(plan => plan with
        {
            TensorParallelism = 4, ExpertParallelism = 16, PipelineParallelism = 1, DataParallelism = 16, SequenceParallelism = true, MicroBatchSize = 1,
        });
        var oneRank = scenario with { Cluster = scenario.Cluster with { System = scenario.Cluster.System with { Chip = scenario.Cluster.Chip with { RanksPerChip = null } } } };
        var (four, one) = (AnalyticalEngine.Simulate(scenario), AnalyticalEngine.Simulate(oneRank));
        Assert.True(four.Valid, string.Join("; ", four.Problems));
        var model = scenario.Model;
        var extraPerLayer = model.ExpertLayerSharedParametersPerRank(4, ranksPerChip: 4) - model.ExpertLayerSharedParametersPerRank(4);
        Assert.True(extraPerLayer > 0);
        Within.Relative(extraPerLayer * model.ExpertLayerCount * 2, (four.Memory!.Weights - one.Memory!.Weights).Count, 1e-6);
    }

    [Fact]
    public void TensorParallelism_MustSplitTheHeads_OverEveryRankOfItsChips()
    {
        // Trainium2 runs four ranks per chip: tensor 32 is 128 ranks, more than Llama 3 70B's 64 heads.
        var scenario = Repository.Example("llama3-70b-trn2-ultraserver").WithPlan(plan => plan with { TensorParallelism = 32, PipelineParallelism = 1 });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains("tensor parallelism 32 (128 ranks, 4 per chip) does not divide the 64 attention heads", StringComparison.Ordinal));
        Assert.True(AnalyticalEngine.Simulate(scenario.WithPlan(plan => plan with { TensorParallelism = 16, PipelineParallelism = 2 })).Valid);
    }

    [Theory]
    [InlineData("neuron-trn1-train-llama-3.1-8b-32nodes", true)]
    [InlineData("neuron-trn1-train-llama2-7b-16nodes", false)]
    public void ATrainiumChip_RunsTwoRanks_WhichCostsOnlyWhereKeyValueHeadsAreReplicated(string id, bool replicated)
    {
        // Trainium1 runs one rank per NeuronCore, two per chip: Llama 3.1 8B's 8 key-value heads over 32 ranks are each
        // kept four times; Llama 2 7B's 32 heads over 8 ranks are not replicated at all.
        var scenario = Repository.TrainingCases.Single(item => item.Id == id).Scenario;
        Assert.Equal(2, scenario.Cluster.Chip.Ranks);
        var oneRank = scenario with { Cluster = scenario.Cluster with { System = scenario.Cluster.System with { Chip = scenario.Cluster.Chip with { RanksPerChip = null } } } };
        var (two, one) = (AnalyticalEngine.Simulate(scenario), AnalyticalEngine.Simulate(oneRank));
        if (replicated)
        {
            Assert.True(two.HardwareFlopsPerStep > one.HardwareFlopsPerStep && two.StepTime > one.StepTime && two.Memory!.Weights > one.Memory!.Weights);
        }
        else
        {
            Assert.Equal(one.HardwareFlopsPerStep, two.HardwareFlopsPerStep);
            Assert.Equal(one.StepTime, two.StepTime);
        }
    }
}
