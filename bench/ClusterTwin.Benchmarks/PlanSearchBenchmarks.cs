using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Planning;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The three shipped plan searches (examples/plan-*.yaml), whole: enumeration, pruning, evaluation on both cores,
/// and the band of the five best; each also with <c>plan --offload</c>, which retries the layouts over memory that
/// could offload with the fewest offloaded layers that fit. Candidates per second is the layouts evaluated or pruned
/// for memory (each is simulated) over the mean time; bench/README.md records it.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PlanSearchBenchmarks
{
    private PlanningScenario planning = null!;

    /// <summary>The example file.</summary>
    [Params("plan-gpt3-175b-h100-1024", "plan-llama3-405b-h100-16k", "plan-llama3-405b-trainium3-1m")]
    public string Example { get; set; } = string.Empty;

    /// <summary>Whether the search may offload activations (<c>plan --offload</c>).</summary>
    [Params(false, true)]
    public bool Offload { get; set; }

    private PlanPins pins = PlanPins.None;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        planning = ScenarioLoader.LoadForPlanning(Examples.Path(catalog, Example + ".yaml"), catalog);
        pins = planning.Pins with { SearchesOffloading = Offload };
        var search = PlanSearch.Run(planning.Scenario, pins, top: 5);
        Console.WriteLine($"// {Example}, offload {Offload}: {search.Considered} combinations, {search.Evaluated + search.PrunedMemory} simulated ({search.Evaluated} fit, {search.FitByOffloading} by offloading)");
    }

    /// <summary>The whole search, top five.</summary>
    [Benchmark]
    public PlanSearchResult Search() => PlanSearch.Run(planning.Scenario, pins, top: 5);
}
