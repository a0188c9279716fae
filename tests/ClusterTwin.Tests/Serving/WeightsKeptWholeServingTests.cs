using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

/// <summary>Weights a serving chip keeps whole past the tensor degree: replicated key-value heads, latent down-projections, the router.</summary>
public class WeightsKeptWholeServingTests
{
    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    [Fact]
    public void PastTheKeyValueHeads_EachChipHoldsAWholeHead_AndReadsIt()
    {
        // Llama 3 70B: 8 key-value heads of 128 on a hidden size of 8,192. On 16 chips each holds one head of keys and
        // one of values per layer (2 x 8,192 x 128 weights), where an even share would be half that.
        var model = Deployment.Model;
        Assert.Equal(8, model.KeyValueHeads);
        Assert.Equal(0, model.ParametersKeptWholePerRank(8), 6);
        var extra = (2.0 * 8192 * 128) - (2.0 * 8192 * 1024 / 16);
        Within.Relative(extra, model.ParametersKeptWholePerRank(16), 1e-12);

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

    [Fact]
    public void LatentAttentionsDownProjections_AndTheRouter_AreKeptWholeOnEveryChip()
    {
        // DeepSeek-V3 on 8 chips: the query and key-value down-projections with their norms (7,168 x 1,536 + 1,536 +
        // 7,168 x (512 + 64) + 512 weights per layer) and the router (7,168 x 256, on 58 of the 61 layers) stay whole:
        // 7/8 of each beyond the even share.
        var model = Repository.Catalog.Models["deepseek-v3"];
        var downProjections = (7168.0 * 1536) + 1536 + (7168.0 * (512 + 64)) + 512;
        var router = 58.0 / 61 * 7168 * 256;
        Within.Relative((downProjections + router) * 7 / 8, model.ParametersKeptWholePerRank(8), 1e-12);
        Assert.Equal(0, Repository.Catalog.Models["llama3-70b"].ParametersKeptWholePerRank(8));
    }

    [Fact]
    public void APipelinedChip_KeepsWholeOnlyItsStagesLayers_AndADraftModelKeepsItsOwn()
    {
        var model = Deployment.Model;
        var extra = model.ParametersKeptWholePerRank(16);
        var staged = Deployment with { TensorParallelism = 16, PipelineParallelism = 2 };
        Within.Relative(((model.Parameters / 32) + (model.Layers / 2.0 * extra)) * staged.WeightBytesPerElement, staged.WeightsPerChip.Count, 1e-12);

        // Llama 3 8B as the draft at tensor 16: 8 key-value heads of 128 on a hidden size of 4,096, one per chip.
        var draft = Repository.Catalog.Models["llama3-8b"];
        var speculating = Deployment with { TensorParallelism = 16, Speculation = new Speculation(draft, 4, 0.8) };
        var draftExtra = (2.0 * 4096 * 128) - (2.0 * 4096 * 1024 / 16);
        Within.Relative(draftExtra, draft.ParametersKeptWholePerRank(16), 1e-12);
        Within.Relative(((model.Parameters / 16) + (model.Layers * extra) + (draft.Parameters / 16) + (draft.Layers * draftExtra)) * speculating.WeightBytesPerElement,
            speculating.WeightsPerChip.Count, 1e-12);
    }
}
