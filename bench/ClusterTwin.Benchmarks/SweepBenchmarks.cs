using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Sweeps;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// One point of a sweep, as a shard runs it: the base scenario parsed anew with the point's values set, read, and
/// simulated (the Trn2 UltraServer example, 1,024 chips, by batch, micro-batch and sequence); or searched on one
/// thread and simulated at its best layout (<c>examples/sweeps/llama3-70b-trainium-sizes.yaml</c>, its largest points:
/// 16 Trn2 UltraServers, 1,024 chips, and 16 Trn3 Gen2 UltraServers, 2,304 chips, at 8K tokens); or served request
/// by request (<c>examples/sweeps/llama3-70b-h100-serving.yaml</c>).
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class SweepBenchmarks
{
    private HardwareCatalog catalog = null!;
    private SweepDefinition simulated = null!;
    private SweepDefinition searched = null!;
    private SweepDefinition served = null!;
    private string folder = null!;

    [GlobalSetup]
    public void Setup()
    {
        catalog = Examples.Catalog();
        folder = Path.Combine(Path.GetTempPath(), "clustertwin-sweep-bench-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var file = Path.Combine(folder, "sweep.yaml");
        File.WriteAllText(file, $"""
            scenario: {Examples.Path(catalog, "llama3-70b-trn2-ultraserver.yaml")}
            vary:
              training.global_batch: [512, 1024]
              plan.micro_batch: [1, 2]
              training.sequence_length: [4096, 8192]
            """);
        simulated = SweepLoader.Load(file);
        searched = SweepLoader.Load(Examples.Path(catalog, Path.Combine("sweeps", "llama3-70b-trainium-sizes.yaml")));
        served = SweepLoader.Load(Examples.Path(catalog, Path.Combine("sweeps", "llama3-70b-h100-serving.yaml")));
    }

    [GlobalCleanup]
    public void Cleanup() => Directory.Delete(folder, recursive: true);

    /// <summary>A simulated point.</summary>
    [Benchmark(Baseline = true)]
    public SweepRow SimulatedPoint() => SweepRunner.Point(simulated, catalog, 6);

    /// <summary>A searched point: 16 Trn2 UltraServers (1,024 chips), 8K tokens.</summary>
    [Benchmark]
    public SweepRow SearchedTrainium2Point() => SweepRunner.Point(searched, catalog, 7);

    /// <summary>A served point: 2,000 requests at 8 a second on two replicas of tensor 4, batch limit 256 (the serving example's own).</summary>
    [Benchmark]
    public SweepRow ServedPoint() => SweepRunner.Point(served, catalog, 5);

    /// <summary>A searched point: 16 Trn3 Gen2 UltraServers (2,304 chips), 8K tokens.</summary>
    [Benchmark]
    public SweepRow SearchedTrainium3Point() => SweepRunner.Point(searched, catalog, 15);
}
