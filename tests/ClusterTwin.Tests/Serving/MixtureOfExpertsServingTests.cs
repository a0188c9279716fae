using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class MixtureOfExpertsServingTests
{
    private static ServingDeployment Qwen()
    {
        using var folder = new TemporaryFolder();
        var text = """
            cluster: {system: nvidia-hgx-h200, count: 1}
            model: qwen3-235b-a22b
            serving: {tensor: 8, precision: fp8, kv_cache_precision: fp8}
            requests: {arrival: all-at-once, count: 1, input_tokens: 100, output_tokens: 10}
            """;
        return ScenarioLoader.LoadServing(folder.Write("qwen.yaml", text), Repository.Catalog).Deployment;
    }

    [Fact]
    public void ADecodeReadsTheExpertsItsTokensReach_APrefillReadsThemAll()
    {
        var deployment = Qwen();
        var model = deployment.Model;
        var experts = model.MixtureOfExperts!;
        var cost = new IterationCost(deployment);
        var one = cost.Of(new Iteration(1, 1000, 0, 0, 1)).MemoryTraffic.Count;
        var two = cost.Of(new Iteration(2, 2000, 0, 0, 2)).MemoryTraffic.Count;

        // A second token reaches k(1 - k/E) new experts on average in each expert layer, across the 8 chips.
        var perExpert = model.ExpertParameters * deployment.WeightBytesPerElement * model.ExpertLayerCount;
        var newExperts = experts.PerToken * (1 - ((double)experts.PerToken / experts.Routed));
        var expected = newExperts * perExpert;
        Assert.Equal(expected, two - one, expected * 0.05); // the rest: one more token's cache, activations and head

        // A 4096-token prefill reaches every expert: its weight reads are the whole model's, give or take its cache and activations.
        var all = cost.Of(new Iteration(0, 0, 4096, 4096 * 4097 / 2.0, 1)).MemoryTraffic.Count;
        Assert.True(all > model.Parameters * deployment.WeightBytesPerElement * 0.95, $"{all:E3} against {model.Parameters * deployment.WeightBytesPerElement:E3}");
        Assert.True(one < all / 4, "one token reads a small share of the experts");
    }
}
