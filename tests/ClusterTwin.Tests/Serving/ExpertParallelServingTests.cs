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
        Assert.InRange(split.KeyValueCapacityTokens, 550_000, 650_000);
        Assert.InRange(expert.KeyValueCapacityTokens, 3_100_000, 3_300_000);

        // A request's whole cache sits on one chip: one chip's capacity bounds what a request may hold.
        Assert.Equal(perChip, expert.KeyValueCapacityPerRequest);
        Assert.Equal(split.KeyValueCapacityTokens, split.KeyValueCapacityPerRequest);
    }

    [Fact]
    public void AnExpertLayer_ExchangesItsTokensTwice_AndADecodeAloneReadsMoreThanSplitByTensor()
    {
        var deployment = ExpertParallel().Deployment;
        var model = deployment.Model;
        var experts = model.MixtureOfExperts!;
        var cost = new IterationCost(deployment);

        // 800 tokens prefilled: each chip sends the other seven their share of its 100 tokens' k copies, twice per expert layer.
        // Eight 100-token prompts, one a chip: each chip sends the other seven their share of its tokens' k copies,
        // twice per expert layer.
        var eight = new Iteration(0, 0, 800, 8 * 100 * 101 / 2.0, 8, 100, 100 * 101 / 2.0);
        var work = cost.Of(eight);
        var exchanged = 100.0 * experts.PerToken * model.HiddenSize * 2;
        Assert.Equal(exchanged * 2 * 7 / 8 * model.ExpertLayerCount * 8, work.LinkTraffic.Count, 1);
        var group = GroupPlacement.Place(deployment.Cluster, 8, 1);
        Assert.True(new CollectiveCost(deployment.Cluster, deployment.Efficiency).Time(CollectiveKind.AllToAll, group, Bytes.FromCount(exchanged)) > Duration.Zero);

        // A request is whole on its chip: one 800-token prompt is prefilled by one chip, where eight of 100 share out.
        var one = cost.Of(new Iteration(0, 0, 800, 800 * 801 / 2.0, 1, 800, 800 * 801 / 2.0));
        Assert.True(one.Time > 2 * work.Time, $"{one.Time} against {work.Time}");

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
        Assert.True(other.OutputTokensPerSecond > 1.4 * one.OutputTokensPerSecond, $"{other.OutputTokensPerSecond} against {one.OutputTokensPerSecond}");

        // At a light load the other way round: every iteration waits for the chip prefilling a whole prompt and
        // reads attention whole, so the first token and the later ones come later.
        var light = DeepSeek.Replace("rate: 60, count: 3000", "rate: 4, count: 400", StringComparison.Ordinal);
        var (calm, calmExpert) = (Load(light), ExpertParallel(light));
        var splitLight = ServingSimulator.Run(calm.Deployment, calm.Workload);
        var expertLight = ServingSimulator.Run(calmExpert.Deployment, calmExpert.Workload);
        Assert.True(expertLight.TimeToFirstToken.P50 > splitLight.TimeToFirstToken.P50);
        Assert.True(expertLight.TimePerOutputToken.P50 > splitLight.TimePerOutputToken.P50);
    }

    [Theory]
    [InlineData("model: deepseek-v3", "tensor: 8, expert: 4,", "expert 4 with tensor 8")]
    [InlineData("model: deepseek-v3", "tensor: 8, expert: 8, pipeline: 2,", "expert parallelism with pipeline stages")]
    [InlineData("model: llama3-70b", "tensor: 8, expert: 8,", "is not a mixture of experts")]
    [InlineData("model: mixtral-8x7b", "tensor: 3, expert: 3,", "does not divide the 8 routed experts")]
    [InlineData("model: deepseek-v3", "tensor: 8, expert: 8, speculative: {draft: llama3-8b, draft_tokens: 2, acceptance: 0.5},", "speculative decoding with expert parallelism")]
    public void ABadExpertDegree_SaysWhy(string model, string serving, string expected)
    {
        using var folder = new TemporaryFolder();
        var text = DeepSeek.Replace("model: deepseek-v3", model, StringComparison.Ordinal).Replace("tensor: 8,", serving, StringComparison.Ordinal);
        var outcome = CliRunner.Run("serve", folder.Write("bad.yaml", text));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("serving.expert", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains(expected, outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ADisaggregatedExpertParallelPool_MovesEachCacheOverOneChipsLink()
    {
        // A tensor-split prefill pool beside an expert-parallel decode pool. A request's cache lands on the one decode
        // chip that runs its attention, so that chip's link alone carries it, while the prefill replica's eight links
        // can carry eight such transfers side by side.
        const string text = """
            model: deepseek-v3
            disaggregated:
              transfer: scale-out
              prefill: {cluster: {system: nvidia-hgx-h200, count: 1}, serving: {tensor: 8, precision: fp8}}
              decode: {cluster: {system: nvidia-hgx-h200, count: 1}, serving: {tensor: 8, expert: 8, precision: fp8}}
            requests: {arrival: poisson, rate: 4, count: 200, input_tokens: 1024, output_tokens: 64, seed: 1}
            """;
        using var folder = new TemporaryFolder();
        var scenario = ScenarioLoader.LoadServing(folder.Write("split.yaml", text), Repository.Catalog);
        var split = scenario.Split!;
        Assert.True(split.Decode.ExpertParallel);
        Assert.Equal(split.Decode.Cluster.System.ScaleOutBandwidth!.Value, split.TransferBandwidth);
        Assert.Equal(8, split.TransferLanes);
        var result = ServingSimulator.Run(split, scenario.Workload);
        Assert.Equal(200, result.Completed);
        Assert.Equal(split.TransferTime(1024).Seconds, result.KeyValueTransfer!.Value.P50, split.TransferTime(1024).Seconds * 0.02);
    }

    [Fact]
    public void TheBusiestChipsExperts_CarryTheModelsRoutingSkew()
    {
        // Qwen3-235B's routing was measured 1.78 times balanced at 16 experts a chip, which is its split over eight.
        var scenario = ExpertParallel(DeepSeek.Replace("model: deepseek-v3", "model: qwen3-235b-a22b", StringComparison.Ordinal));
        var deployment = scenario.Deployment;
        var experts = deployment.Model.MixtureOfExperts!;
        Assert.Equal(1.78, experts.RoutingSkewAt(experts.Routed / 8.0), 9);
        var balanced = deployment with { Model = deployment.Model with { MixtureOfExperts = experts with { RoutingSkew = 1 } } };

        // A prefill of 8,192 tokens, 1,024 a chip: the skewed routing makes the busiest chip's experts slower.
        var prefill = new Iteration(0, 0, 8192, 8 * 1024 * 1025 / 2.0, 8, 1024, 1024 * 1025 / 2.0);
        var skewed = new IterationCost(deployment).Of(prefill);
        var even = new IterationCost(balanced).Of(prefill);
        Assert.True(skewed.Time > even.Time * 1.1, $"{skewed.Time} against {even.Time}");
        Assert.Equal(even.Work.Operations, skewed.Work.Operations, even.Work.Operations * 1e-12); // the same work, unevenly spread
    }

    [Fact]
    public void TheExample_ServesExpertParallel_AndKeepsUpWhereTheTensorSplitQueues()
    {
        var path = Repository.Path("examples", "serve-deepseek-v3-h200-expert.yaml");
        var example = ScenarioLoader.LoadServing(path, Repository.Catalog);
        Assert.True(example.Deployment.ExpertParallel);
        var split = Load(File.ReadAllText(path).Replace("expert: 8 ", "expert: 1 ", StringComparison.Ordinal));
        Assert.False(split.Deployment.ExpertParallel);
        var expert = ServingSimulator.Run(example.Deployment, example.Workload, example.Objectives);
        var tensor = ServingSimulator.Run(split.Deployment, split.Workload, split.Objectives);
        Assert.True(expert.TimeToFirstToken.P50 < 3, $"{expert.TimeToFirstToken.P50} s");
        Assert.True(tensor.TimeToFirstToken.P50 > 10, $"{tensor.TimeToFirstToken.P50} s");
        Assert.True(expert.WithinObjectives > tensor.WithinObjectives);
    }
}
