using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The deployment search of <c>examples/serve-search-llama3-70b.yaml</c> (7 systems, 3 tensor degrees, FP8, 2 batch
/// limits and 2 disaggregated candidates; 5,000 requests per simulation): what <c>serve-search</c> costs.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class ServingSearchBenchmarks
{
    private ServingSearchScenario scenario = null!;
    private HardwareCatalog catalog = null!;

    [GlobalSetup]
    public void Setup()
    {
        catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadServingSearch(Examples.Path(catalog, "serve-search-llama3-70b.yaml"), catalog);
    }

    /// <summary>Every candidate's fewest replicas, each a full request-level simulation.</summary>
    [Benchmark]
    public int Search() => scenario.Run(catalog).Length;
}
