using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Planning;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The three shipped plan searches (examples/plan-*.yaml), whole: enumeration, pruning, evaluation on both cores,
/// and the band of the five best. Candidates per second is the layouts evaluated or pruned for memory (each is
/// simulated) over the mean time; bench/README.md records it.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PlanSearchBenchmarks
{
    private PlanningScenario planning = null!;

    /// <summary>The example file.</summary>
    [Params("plan-gpt3-175b-h100-1024", "plan-llama3-405b-h100-16k", "plan-llama3-405b-trainium3-1m")]
    public string Example { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        planning = ScenarioLoader.LoadForPlanning(Examples.Path(catalog, Example + ".yaml"), catalog);
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 5);
        Console.WriteLine($"// {Example}: {search.Considered} combinations, {search.Evaluated + search.PrunedMemory} simulated ({search.Evaluated} fit)");
    }

    /// <summary>The whole search, top five.</summary>
    [Benchmark]
    public PlanSearchResult Search() => PlanSearch.Run(planning.Scenario, planning.Pins, top: 5);
}
