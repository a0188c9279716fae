using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

/// <summary>Attention weights a serving chip keeps whole past the tensor degree: replicated key-value heads.</summary>
public class ReplicatedAttentionServingTests
{
    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    [Fact]
    public void PastTheKeyValueHeads_EachChipHoldsAWholeHead_AndReadsIt()
    {
        // Llama 3 70B: 8 key-value heads of 128 on a hidden size of 8,192. On 16 chips each holds one head of keys and
        // one of values per layer (2 x 8,192 x 128 weights), where an even share would be half that.
        var model = Deployment.Model;
        Assert.Equal(8, model.KeyValueHeads);
        Assert.Equal(0, model.ReplicatedAttentionParametersPerRank(8), 6);
        var extra = (2.0 * 8192 * 128) - (2.0 * 8192 * 1024 / 16);
        Within.Relative(extra, model.ReplicatedAttentionParametersPerRank(16), 1e-12);

        var eight = Deployment with { TensorParallelism = 8 };
        var sixteen = Deployment with { TensorParallelism = 16 };
        Within.Relative(((model.Parameters / 16) + (model.Layers * extra)) * eight.WeightBytesPerElement, sixteen.WeightsPerChip.Count, 1e-12);

        // A decode step reads every chip's weights: across the 16 chips the replicated heads are read twice. The
        // eight more chips also each pass the token's activations through every layer (8,192 x 2 bytes, four times).
        var decode = new Iteration(1, 0, 0, 0, 1);
        var readEight = new IterationCost(eight).Of(decode).MemoryTraffic.Count;
        var readSixteen = new IterationCost(sixteen).Of(decode).MemoryTraffic.Count;
        Within.Relative((model.Layers * extra * 16 * eight.WeightBytesPerElement) + (model.Layers * 8 * (8192 * 2.0 * 4)), readSixteen - readEight, 1e-9);
    }
}
