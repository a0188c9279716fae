using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Planning;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The cluster size search of <c>examples/train-search-llama3-70b.yaml</c> (Llama 3 70B on 15T tokens within 30 days,
/// five systems, up to 65,536 chips): what <c>train-search</c> costs, each size tried a whole layout search.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SizeSearchBenchmarks
{
    private TrainingSearchScenario scenario = null!;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.LoadTrainingSearch(Examples.Path(catalog, "train-search-llama3-70b.yaml"), catalog);
    }

    /// <summary>Every system sized: the sizes tried, each its fastest layout.</summary>
    [Benchmark]
    public int Search() => scenario.Candidates.Sum(candidate => SizeSearch.Run(candidate, scenario.Settings).Tried.Length);
}
