using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class DisaggregatedServingTests
{
    private static ServingScenario Example => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-fusion-disaggregated.yaml"), Repository.Catalog);

    /// <summary>Llama 3 8B split over <paramref name="prefill"/> and <paramref name="decode"/> GPUs of one DGX H100, rented as <paramref name="whole"/> says.</summary>
    private static ServingResult OneServer(int prefill, int decode, bool whole)
    {
        using var folder = new TemporaryFolder();
        var cost = whole ? string.Empty : ", cost: {whole_instances: false}";
        return ScenarioLoader.LoadServing(folder.Write("split.yaml", $$"""
            model: llama3-8b
            disaggregated:
              transfer: scale-up
              prefill: {cluster: {system: nvidia-dgx-h100, chips: {{prefill}}}, serving: {tensor: {{prefill}}, max_batch: 64}{{cost}}}
              decode: {cluster: {system: nvidia-dgx-h100, chips: {{decode}}}, serving: {tensor: {{decode}}, max_batch: 256}{{cost}}}
            requests: {arrival: poisson, rate: 10, count: 300, input_tokens: [1000, 2000], output_tokens: [100, 200], seed: 1}
            """), Repository.Catalog).Run();
    }

    [Theory]
    [InlineData(4, 4, 1.0)]   // the two pools fill the server: what they use is what they rent
    [InlineData(2, 2, 2.0)]   // half of it: they rent one server between them, twice their chips
    public void TwoPoolsInOneServer_RentItOnce(int prefill, int decode, double rentedOverUsed)
    {
        var whole = OneServer(prefill, decode, whole: true);
        var byChip = OneServer(prefill, decode, whole: false);
        Within.Relative(rentedOverUsed * byChip.CostPerMillionOutputTokens!.Value.Dollars, whole.CostPerMillionOutputTokens!.Value.Dollars, 1e-9);
    }

    [Fact]
    public void KeyValueTransfer_IsItsLatencyPlusTheCacheOverTheSlowerSide()
    {
        var split = Example.Split!;
        var model = split.Prefill.Model;
        var perToken = model.Layers * 2.0 * model.KeyValueHeads * model.HeadSize * 1; // FP8 cache: one byte per element
        Assert.Equal(perToken, split.Prefill.KeyValuePerToken.Count, 1e-6);
        Bandwidth(split.Prefill, out var prefill);
        Bandwidth(split.Decode, out var decode);
        var expected = split.TransferLatency.Seconds + (perToken * 2000 / Math.Min(prefill, decode));
        Assert.Equal(expected, split.TransferTime(2000).Seconds, expected * 1e-9);

        static void Bandwidth(ServingDeployment pool, out double bytesPerSecond) =>
            bytesPerSecond = pool.Cluster.System.ScaleUpBandwidth.Value.PerDirection.BytesPerSecond * pool.TensorParallelism;
    }

    [Fact]
    public void ALoneRequest_GetsItsFirstTokenFromThePrefillPool_ThenDecodesAfterTheTransfer()
    {
        var scenario = Example;
        var split = scenario.Split!;
        var workload = new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 1, InputTokens = TokenCount.Fixed(2000), OutputTokens = TokenCount.Fixed(101) };
        var result = ServingSimulator.Run(split, workload);
        var prefill = new IterationCost(split.Prefill).Of(new Iteration(0, 0, 2000, 2000 * 2001 / 2.0, 1)).Time.Seconds;
        var decode = new IterationCost(split.Decode).Of(new Iteration(1, 2050, 0, 0, 1)).Time.Seconds;
        var transfer = split.TransferTime(2000).Seconds;
        Assert.Equal(prefill, result.TimeToFirstToken.P50, prefill * 0.02);
        Assert.Equal(transfer, result.KeyValueTransfer!.Value.Mean, transfer * 0.02);
        // 100 later tokens: the first waits for the transfer and an iteration that admits the request, then one decode each.
        var expected = prefill + transfer + (101 * decode);
        Assert.Equal(expected, result.EndToEnd.P50, expected * 0.03);
        Assert.Equal(2, result.Pools.Length);
        Assert.Equal(split.Prefill.Cluster.ChipCount + split.Decode.Cluster.ChipCount, result.Chips);
    }

    [Fact]
    public void EnergyAndCost_AddThePools()
    {
        var scenario = Example with { Workload = Example.Workload with { Requests = 400 } };
        var result = scenario.Run();
        Assert.All(result.Pools, pool => Assert.NotNull(pool.Energy));
        var joules = result.Pools.Sum(pool => pool.Energy!.ItPerStep.Joules) / result.OutputTokens;
        Assert.Equal(joules, result.EnergyPerOutputToken!.Value.Joules, joules * 1e-9);
        var dollars = result.Pools.Sum(pool => pool.Cost!.PerMillionTokens.Dollars);
        Assert.Equal(dollars, result.CostPerMillionOutputTokens!.Value.Dollars, dollars * 1e-9);
        Assert.True(result.Pools[0].Utilization(result.Makespan) is > 0 and <= 1);
    }

    [Fact]
    public void ScaleUpTransfer_BetweenTori_IsRefused()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-fusion-disaggregated.yaml"))
            .Replace("{system: aws-trn4-nvlink-fusion-rack, chips: 16}", "{system: aws-trn2-48xlarge, count: 1}", StringComparison.Ordinal)
            .Replace("precision: fp8, kv_cache_precision: fp8, max_batch: 512", "precision: fp8, kv_cache_precision: fp8, max_batch: 512", StringComparison.Ordinal);
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("torus.yaml", text), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "disaggregated.transfer" && diagnostic.Message.Contains("switched", StringComparison.Ordinal));
    }

    [Fact]
    public void ADisaggregatedScenario_RefusesAWholeScenarioCluster()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-fusion-disaggregated.yaml")) + "cluster: {system: nvidia-dgx-h100, count: 1}\n";
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("both.yaml", text), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "cluster" && diagnostic.Message.Contains("each pool", StringComparison.Ordinal));
    }
}
