using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The serving simulator on the shipped example (Llama 3.1 70B, two replicas of tensor 4 on 8 H100, Poisson arrivals
/// at 8 requests per second) for 10K, 100K and 1M requests: time grows with the requests, memory must not.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ServingBenchmarks
{
    private ServingScenario scenario = null!;

    /// <summary>Requests simulated.</summary>
    [Params(10_000, 100_000, 1_000_000)]
    public int Requests { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = CatalogLoader.Load(CatalogLoader.Locate(null));
        scenario = ScenarioLoader.LoadServing(Path.Combine(Path.GetDirectoryName(catalog.Directory)!, "examples", "serve-llama3-70b-h100.yaml"), catalog);
    }

    /// <summary>The whole simulation, energy and cost included.</summary>
    [Benchmark]
    public ServingResult Serve() => ServingSimulator.Run(scenario.Deployment, scenario.Workload with { Requests = Requests }, scenario.Objectives, scenario.Cost);
}
