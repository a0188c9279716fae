using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// One analytical training step of Llama 3 405B on Trn3 Gen2 UltraServers, at 1K, 100K and 1M chips, with and without
/// its uncertainty band: the time and the allocations must not grow with the chip count.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class StepSimulationBenchmarks
{
    private Scenario scenario = null!;

    /// <summary>Approximate chip count (rounded to whole 144-chip UltraServers).</summary>
    [Params(1_000, 100_000, 1_000_000)]
    public int Chips { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        var million = ScenarioLoader.Load(Examples.Path(catalog, "llama3-405b-trainium3-1m.yaml"), catalog);
        scenario = Examples.AtChips(million, Chips);
    }

    /// <summary>One step with its uncertainty band (the band recomputes the step for each uncertain hardware figure).</summary>
    [Benchmark]
    public TrainingStepResult SimulateWithBand() => AnalyticalEngine.Simulate(scenario);

    /// <summary>One step alone: the path a plan search takes.</summary>
    [Benchmark(Baseline = true)]
    public TrainingStepResult SimulateStep() => AnalyticalEngine.SimulateStep(scenario);
}
