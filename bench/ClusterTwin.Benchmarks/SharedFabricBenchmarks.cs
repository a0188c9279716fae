using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Sharing;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// Training jobs on one shared network (<c>clustertwin share</c>) on the shipped examples: four jobs on 256 DGX H100
/// spread round the leaves, and sixteen on 8,192 (65,536 GPUs) placed at random. A run costs each job's step a few
/// times per round of the fixed point (two or three dozen rounds) and, once per job and dimension, the walk over its
/// ranks that finds the tier its groups cross; the contention is a knapsack over the jobs in each switch group.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SharedFabricBenchmarks
{
    private SharedCluster shared = null!;

    /// <summary>The scenario, under examples/shared.</summary>
    [Params("h100-spine-3to1-spread", "h100-64k-sixteen-jobs-random")]
    public string Scenario { get; set; } = string.Empty;

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        shared = ScenarioLoader.LoadShared(Examples.Path(catalog, Path.Combine("shared", Scenario + ".yaml")), catalog);
    }

    /// <summary>Every job alone, as placed, beside the others and aligned.</summary>
    [Benchmark]
    public SharedClusterResult Run() => SharedFabric.Run(shared);
}
