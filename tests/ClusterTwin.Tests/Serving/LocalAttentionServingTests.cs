using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Serving;

/// <summary>Serving a model whose local-attention layers keep at most their window of cache (GPT-OSS's sliding windows, Llama 4's chunks).</summary>
public class LocalAttentionServingTests
{
    /// <summary>GPT-OSS 120B in FP8 on two H100 (tensor 2), with a cache of about <paramref name="tokens"/> tokens of every layer.</summary>
    private static ServingDeployment GptOss(long tokens)
    {
        using var folder = new TemporaryFolder();
        var text = """
            cluster: {system: nvidia-dgx-h100, chips: 2}
            model: gpt-oss-120b
            serving: {tensor: 2, precision: fp8, kv_cache_precision: fp8, max_batch: 256, max_batch_tokens: 8192}
            requests: {arrival: all-at-once, count: 1, input_tokens: 100, output_tokens: 10}
            """;
        return ScenarioLoader.LoadServing(folder.Write("oss.yaml", text), Repository.Catalog).Deployment.WithCache(tokens);
    }

    private static ServingDeployment Windowless(ServingDeployment deployment) => deployment with { Model = deployment.Model with { LocalAttention = null } };

    /// <summary><paramref name="requests"/> requests of fixed lengths, all at once.</summary>
    private static RequestWorkload AllAtOnce(int requests, int input, int output) =>
        new() { Arrivals = ArrivalKind.AllAtOnce, Requests = requests, InputTokens = TokenCount.Fixed(input), OutputTokens = TokenCount.Fixed(output) };

    /// <summary>The same requests served with the model's windows and with every layer attending to the whole context.</summary>
    private static (ServingResult Windowed, ServingResult Whole) BothWays(ServingDeployment deployment, RequestWorkload workload) =>
        (ServingSimulator.Run(deployment, workload), ServingSimulator.Run(Windowless(deployment), workload));

    [Fact]
    public void Units_AreTokens_WhereEveryLayerIsGlobal_AndLayerTokensWithinTheWindowOtherwise()
    {
        var full = CacheLayout.Of(Repository.Catalog.Models["llama3-70b"]);
        Assert.Equal(1, full.UnitsPerToken);
        Assert.Equal(12_345, full.Units(12_345));
        Assert.Equal(777.5, full.Context(777.5));

        var oss = CacheLayout.Of(Repository.Catalog.Models["gpt-oss-120b"]);
        Assert.Equal(36, oss.UnitsPerToken);
        Assert.Equal(36 * 100, oss.Units(100));                       // within the window every layer keeps every token
        Assert.Equal((18 * 10_000) + (18 * 128), oss.Units(10_000));   // past it the 18 sliding layers keep 128
        Assert.Equal(((18 * 10_000.0) + (18 * 128)) / 36, oss.Context(10_000), 12);
    }

    [Theory]
    [InlineData(LocalAttentionKind.Sliding, 0, 300)]
    [InlineData(LocalAttentionKind.Sliding, 100, 50)]
    [InlineData(LocalAttentionKind.Sliding, 1000, 700)]
    [InlineData(LocalAttentionKind.Chunked, 0, 300)]
    [InlineData(LocalAttentionKind.Chunked, 250, 600)]
    public void PrefillPairs_MatchCountingEachQuery(LocalAttentionKind kind, int prefilled, int chunk)
    {
        // A two-layer model, one local (window 128) and one global: the average layer's pairs.
        var model = Repository.Catalog.Models["gpt-oss-120b"] with { Layers = 2, LocalAttention = new LocalAttention(kind, 128, 2) };
        double local = 0, global = 0;
        for (var position = prefilled + 1; position <= prefilled + chunk; position++)
        {
            global += position;
            local += kind == LocalAttentionKind.Sliding ? Math.Min(position, 128) : ((position - 1) % 128) + 1;
        }

        Assert.Equal((local + global) / 2, CacheLayout.Of(model).PrefillPairs(prefilled, chunk), 9);
        Assert.Equal(global, CacheLayout.Of(model with { LocalAttention = null }).PrefillPairs(prefilled, chunk), 9);
    }

    [Fact]
    public void TheCache_HoldsAboutTheLayersTimesItsTokens_InLayerTokens()
    {
        var deployment = GptOss(100_000);
        Assert.InRange(deployment.KeyValueCapacityUnits, (deployment.KeyValueCapacityTokens * 36) - 36, (deployment.KeyValueCapacityTokens * 36) + 36);
    }

    [Fact]
    public void ARequestPastTheWholeLayersCache_IsServed_WhereItsSlidingLayersKeepTheirWindow()
    {
        // 10,000 tokens of every layer; a request of 15,000 needs 18 x 15,001 + 18 x 128 layer-tokens of the 360,000.
        var deployment = GptOss(10_000);
        var (windowed, whole) = BothWays(deployment, AllAtOnce(1, 14_000, 1_000));
        Assert.Equal(1, windowed.Completed);
        Assert.Equal(0, windowed.Refused);
        Assert.Equal(0, whole.Completed);
        Assert.Equal(1, whole.Refused);
    }

    [Fact]
    public void LongRequests_RunMoreAtOnce_AndReadLessCache()
    {
        // 64 requests of 8,000 + 500 tokens on a cache of 200,000 tokens of every layer: 23 fit whole, about 46 windowed.
        var deployment = GptOss(200_000);
        var (windowed, whole) = BothWays(deployment, AllAtOnce(64, 8_000, 500));
        Assert.Equal(64, windowed.Completed);
        Assert.Equal(64, whole.Completed);
        Assert.True(windowed.Makespan.Seconds < whole.Makespan.Seconds * 0.8, $"{windowed.Makespan.Seconds:F2} s against {whole.Makespan.Seconds:F2} s");
        Assert.True(windowed.MemoryTraffic < whole.MemoryTraffic);
        Assert.Equal(windowed.KeyValueCapacityTokens, whole.KeyValueCapacityTokens);
    }

    [Fact]
    public void ShortRequests_WithinTheWindow_AreServedAsWithoutIt()
    {
        // Within 128 tokens every layer keeps and reads every token: the same run, give or take the rounding of the capacity.
        var deployment = GptOss(50_000);
        var (windowed, whole) = BothWays(deployment, AllAtOnce(200, 100, 20));
        Assert.Equal(whole.Makespan.Seconds, windowed.Makespan.Seconds, 9);
        Assert.Equal(whole.MemoryTraffic.Count, windowed.MemoryTraffic.Count, whole.MemoryTraffic.Count * 1e-12);
    }

    [Fact]
    public void TheExample_CountsItsCacheInLayerTokens()
    {
        var deployment = ScenarioLoader.LoadServing(Repository.Path("examples", "serve-gpt-oss-120b-h100.yaml"), Repository.Catalog).Deployment;
        Assert.Equal(18, deployment.Model.LocalAttentionLayerCount);
        Assert.Equal(36, deployment.CacheLayout.UnitsPerToken);
        Assert.InRange(deployment.KeyValueCapacityUnits, (deployment.KeyValueCapacityTokens * 36) - 36, (deployment.KeyValueCapacityTokens * 36) + 36);
    }

    [Fact]
    public void Speculating_CountsTheCacheWhole_ButAttentionStillReadsTheWindow()
    {
        // A draft beside GPT-OSS (any model of the catalogue: the simulator does not check tokenizers).
        var deployment = GptOss(400_000) with { Speculation = new Speculation(Repository.Catalog.Models["llama3-8b"], 3, 0.7) };
        Assert.Equal(1, deployment.CacheLayout.UnitsPerToken);
        var (windowed, whole) = BothWays(deployment, AllAtOnce(16, 8_000, 200));
        Assert.Equal(16, windowed.Completed);
        Assert.True(windowed.MemoryTraffic < whole.MemoryTraffic);
        Assert.True(windowed.Makespan < whole.Makespan);
    }

    [Fact]
    public void ADecodePastTheWindow_NeedsRoomOnTheGlobalLayersAlone()
    {
        // 8 requests of 1,000 + 200 tokens, prefilled in one iteration and decoding together: before the last decode
        // each holds its prompt and 198 decoded tokens, 18 x 1,198 + 18 x 128 layer-tokens, and the decode adds 18 (the
        // sliding layers are past their window): 191,088 in all. A cache just above that serves them without
        // preempting; reserving a decode's token on every layer (36) would need 191,232.
        var deployment = GptOss((long)Math.Ceiling(((8 * 23_886) - 18) / 36.0));
        Assert.InRange(deployment.KeyValueCapacityUnits, 8 * 23_886, (8 * 23_904) - 1);
        var result = ServingSimulator.Run(deployment, AllAtOnce(8, 1_000, 200));
        Assert.Equal(8, result.Completed);
        Assert.Equal(0, result.Preemptions);
    }
}
