using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Reinforcement;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// One RL post-training step (<c>clustertwin rl</c>) on the shipped NeMo RL scenarios: Llama 3.1 8B on 16 H100 (2,048
/// responses of up to 3.6K tokens on 16 replicas) and DeepSeek-V3 on 256 H100 (512 responses on 8 replicas of tensor
/// 32), colocated; and the packing of 100,000 samples alone. The step is mostly its rollout, served request by request;
/// its cost grows with the responses and their lengths, not with the chips.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ReinforcementBenchmarks
{
    private ReinforcementScenario scenario = null!;
    private int[] samples = null!;

    /// <summary>The scenario, under examples/rl/nemo-rl-v0.4.</summary>
    [Params("llama3-8b-on-policy", "deepseek-v3-on-policy")]
    public string Scenario { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadReinforcement(Examples.Path(catalog, Path.Combine("rl", "nemo-rl-v0.4", Scenario + ".yaml")), catalog);
        var random = new Random(1);
        samples = [.. Enumerable.Range(0, 100_000).Select(_ => random.Next(16, 4096))];
    }

    /// <summary>The whole step: rollout, packing, scoring, training, weight update, energy and cost.</summary>
    [Benchmark]
    public ReinforcementStep Step() => ReinforcementSimulator.Run(scenario);

    /// <summary>Best-fit decreasing packing of 100,000 samples into 4,096-token sequences.</summary>
    [Benchmark]
    public int Packing() => SamplePacking.Sequences(samples, 4096);
}
