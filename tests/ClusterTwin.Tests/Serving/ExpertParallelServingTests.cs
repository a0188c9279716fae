using ClusterTwin.Catalog;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Serving;

public class ExpertParallelServingTests
{
    private const string DeepSeek = """
        cluster: {system: nvidia-hgx-h200, count: 1}
        model: deepseek-v3
        serving: {tensor: 8, precision: fp8, kv_cache_precision: bf16, max_batch: 1024}
        requests: {arrival: poisson, rate: 60, count: 3000, input_tokens: [512, 2048], output_tokens: [128, 512], seed: 1}
        """;

    private static ServingScenario Load(string text)
    {
        using var folder = new TemporaryFolder();
        return ScenarioLoader.LoadServing(folder.Write("serve.yaml", text), Repository.Catalog);
    }

    private static ServingScenario ExpertParallel(string text = DeepSeek) => Load(text.Replace("tensor: 8,", "tensor: 8, expert: 8,", StringComparison.Ordinal));

    [Fact]
    public void EachChip_HoldsAllButItsShareOfTheRoutedExperts_AndItsOwnRequestsCacheWhole()
    {
        var split = Load(DeepSeek).Deployment;
        var expert = ExpertParallel().Deployment;
        var model = expert.Model;
        var experts = model.MixtureOfExperts!;
        var whole = model.Parameters - (model.ExpertLayerCount * experts.Routed * model.ExpertParameters);
        var expected = (whole + (model.ExpertLayerCount * experts.Routed / 8.0 * model.ExpertParameters)) * expert.WeightBytesPerElement;
        Assert.Equal(expected, expert.WeightsPerChip.Count, expected * 1e-9);
        Assert.True(expert.WeightsPerChip > split.WeightsPerChip, "attention and the shared experts are whole on every chip");

        // Latent attention's cache is whole per token either way; split by tensor every chip holds every token's,
        // expert-parallel each chip holds its own requests': the replica holds its chips' sum.
        Assert.Equal(split.KeyValuePerTokenPerChip, expert.KeyValuePerTokenPerChip);
        var perChip = (long)Math.Floor(((expert.Cluster.Chip.MemoryCapacity.Value * expert.MemoryUtilization) - expert.WeightsPerChip) / expert.KeyValuePerTokenPerChip);
        Assert.Equal(perChip * 8, expert.KeyValueCapacityTokens);
        Assert.True(expert.KeyValueCapacityTokens > 4 * split.KeyValueCapacityTokens);
    }

    [Fact]
    public void AnExpertLayer_ExchangesItsTokensTwice_AndADecodeAloneReadsMoreThanSplitByTensor()
    {
        var deployment = ExpertParallel().Deployment;
        var model = deployment.Model;
        var experts = model.MixtureOfExperts!;
        var cost = new IterationCost(deployment);

        // 800 tokens prefilled: each chip sends the other seven their share of its 100 tokens' k copies, twice per expert layer.
        var work = cost.Of(new Iteration(0, 0, 800, 800 * 801 / 2.0, 1));
        var exchanged = 100.0 * experts.PerToken * model.HiddenSize * 2;
        Assert.Equal(exchanged * 2 * 7 / 8 * model.ExpertLayerCount * 8, work.LinkTraffic.Count, 1);
        var group = GroupPlacement.Place(deployment.Cluster, 8, 1);
        var exchange = new CollectiveCost(deployment.Cluster, deployment.Efficiency).Time(CollectiveKind.AllToAll, group, Bytes.FromCount(exchanged));
        Assert.True(exchange > Duration.Zero);
        Assert.True(work.Time > exchange * 2 * model.ExpertLayerCount, "the exchanges are part of the iteration");

        // One request decoding: every chip reads attention and the shared experts whole, where tensor parallelism
        // splits them eight ways, so a lone decode is slower expert-parallel.
        var alone = new Iteration(1, 1000, 0, 0, 1);
        Assert.True(cost.Of(alone).Time > new IterationCost(Load(DeepSeek).Deployment).Of(alone).Time);
    }

    [Fact]
    public void UnderLoad_TheLargerCache_ServesMore()
    {
        // At 60 requests a second the tensor-split replica's cache (the latent replicated on every chip) preempts and
        // queues; expert-parallel, each chip caches only its own requests.
        var split = Load(DeepSeek);
        var expert = ExpertParallel();
        var one = ServingSimulator.Run(split.Deployment, split.Workload);
        var other = ServingSimulator.Run(expert.Deployment, expert.Workload);
        Assert.True(one.Preemptions > 0);
        Assert.Equal(0, other.Preemptions);
        Assert.True(other.OutputTokensPerSecond > 1.5 * one.OutputTokensPerSecond, $"{other.OutputTokensPerSecond} against {one.OutputTokensPerSecond}");
    }

    [Theory]
    [InlineData("model: deepseek-v3", "tensor: 8, expert: 4,", "expert 4 with tensor 8")]
    [InlineData("model: deepseek-v3", "tensor: 8, expert: 8, pipeline: 2,", "expert parallelism with pipeline stages")]
    [InlineData("model: llama3-70b", "tensor: 8, expert: 8,", "is not a mixture of experts")]
    [InlineData("model: mixtral-8x7b", "tensor: 3, expert: 3,", "does not divide the 8 routed experts")]
    public void ABadExpertDegree_SaysWhy(string model, string serving, string expected)
    {
        using var folder = new TemporaryFolder();
        var text = DeepSeek.Replace("model: deepseek-v3", model, StringComparison.Ordinal).Replace("tensor: 8,", serving, StringComparison.Ordinal);
        var outcome = CliRunner.Run("serve", folder.Write("bad.yaml", text));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("serving.expert", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains(expected, outcome.Errors, StringComparison.Ordinal);
    }
}
