using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The capacity search of <c>examples/serve-llama3-70b-h100.yaml</c> (2,000 requests per rate, objectives TTFT 500 ms
/// and TPOT 50 ms at 90%): what <c>serve --capacity</c> costs, every rate tried a full request-level simulation.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ServingCapacityBenchmarks
{
    private ServingScenario scenario = null!;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadServing(Examples.Path(catalog, "serve-llama3-70b-h100.yaml"), catalog);
    }

    /// <summary>Bracket and bisect the highest rate within the objectives; returns the rates tried.</summary>
    [Benchmark]
    public int Capacity() => scenario.Capacity(0.9).Probes.Length;
}
