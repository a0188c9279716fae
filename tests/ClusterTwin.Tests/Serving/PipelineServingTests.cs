using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class PipelineServingTests
{
    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    [Fact]
    public void PipelineOfOne_IsNoPipeline()
    {
        var plain = Deployment;
        var one = plain with { PipelineParallelism = 1 };
        var iteration = new Iteration(16, 16 * 1500, 512, 512 * 513 / 2.0, 17);
        Assert.Equal(new IterationCost(plain).Of(iteration), new IterationCost(one).Of(iteration));
    }

    [Fact]
    public void TwoStages_HalveTheWeightsPerChip_AndEachBatchPassesBothInTurn()
    {
        // Two replicas of tensor 4 against one replica of tensor 4 in two stages on the same 8 chips.
        var flat = Deployment;
        var staged = flat with { PipelineParallelism = 2 };
        Assert.Equal(flat.WeightsPerChip.Count / 2, staged.WeightsPerChip.Count, 1);
        Assert.Equal(flat.Replicas, staged.Replicas);
        Assert.True(staged.KeyValueCapacityTokens > flat.KeyValueCapacityTokens, "half the weights leave more room for the cache");

        // A batch crosses every layer on tensor 4 either way; the stages add one hand-off of its activations, each chip
        // sending its quarter.
        var iteration = new Iteration(8, 8 * 1000, 0, 0, 8);
        var system = flat.Cluster.System;
        var handOff = system.ScaleUpLatency.Value.Seconds + (8 * flat.Model.HiddenSize * 2.0 / 4 / system.ScaleUpBandwidth.Value.PerDirection.BytesPerSecond);
        Assert.Equal(new IterationCost(flat).Of(iteration).Time.Seconds + handOff, new IterationCost(staged).Of(iteration).Time.Seconds, 1e-9);
    }

    [Fact]
    public void StagesThatDoNotDivideTheChips_AreAnError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-h100.yaml")).Replace("  tensor: 4", "  tensor: 4\n  pipeline: 3", StringComparison.Ordinal);
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("pp.yaml", text), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.pipeline" && diagnostic.Message.Contains("does not divide", StringComparison.Ordinal));
    }
}
