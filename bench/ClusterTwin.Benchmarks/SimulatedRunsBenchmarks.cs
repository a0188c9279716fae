using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Reliability;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// A thousand runs of Llama 3 405B's 15.6T tokens on Trn3 Gen2 UltraServers, drawn event by event at 1K, 100K and 1M
/// chips with a 10-second restart (<c>examples/reliability/llama3-405b-trn3-1m-restart-10s.yaml</c>): the runs cost
/// their interruptions, some 860 a run at every size (the run shortens as the chips are interrupted more often), so
/// the time must not grow with the chips; and the same with 512 spare servers under two-day repairs.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SimulatedRunsBenchmarks
{
    private RunGoodput run = null!;
    private SpareServers spares = null!;

    /// <summary>Approximate chip count (rounded to whole 144-chip UltraServers).</summary>
    [Params(1_000, 100_000, 1_000_000)]
    public int Chips { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        var million = ScenarioLoader.Load(Examples.Path(catalog, Path.Combine("reliability", "llama3-405b-trn3-1m-restart-10s-spares-512.yaml")), catalog);
        var scenario = Examples.AtChips(million, Chips);
        run = AnalyticalEngine.Simulate(scenario).Run!;
        spares = scenario.Resilience!.Spares!;
    }

    /// <summary>A thousand runs, a spare always at hand.</summary>
    [Benchmark(Baseline = true)]
    public SimulatedRuns? Runs() => SimulatedRuns.Of(run, 1000);

    /// <summary>A thousand runs on 512 spare servers.</summary>
    [Benchmark]
    public SimulatedRuns? RunsWithSpares() => SimulatedRuns.Of(run, 1000, spares: spares);
}
