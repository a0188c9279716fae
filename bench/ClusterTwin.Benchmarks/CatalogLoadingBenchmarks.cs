using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;

namespace ClusterTwin.Benchmarks;

/// <summary>Loading and checking the whole catalogue, which every command does once.</summary>
[MemoryDiagnoser]
[ShortRunJob]
public class CatalogLoadingBenchmarks
{
    private readonly string directory = CatalogLoader.Locate(null);

    [Benchmark]
    public HardwareCatalog LoadCatalog() => CatalogLoader.Load(directory);
}
