using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The mixed pipeline engine on Llama 3 405B over Rubin GPUs and Trainium4 (<c>examples/mixed/llama3-405b-rubin-trainium4.yaml</c>:
/// 2 + 14 stages, 64 micro-batches, 2,048 passes a step), grown by data parallelism from 576 chips to about a million:
/// both kinds' rank costing, the balancing of the layers (56 placements), the replay and each kind's energy and cost.
/// A stage stands for all the chips that run its work, so the cost may not grow with the chips.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class MixedPipelineBenchmarks
{
    private Scenario scenario = null!;

    /// <summary>Data-parallel degree: 9 (576 chips), 1,800 (115,200) or 18,000 (1,152,000).</summary>
    [Params(9, 1_800, 18_000)]
    public int Data { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        var example = ScenarioLoader.Load(Examples.Path(catalog, Path.Combine("mixed", "llama3-405b-rubin-trainium4.yaml")), catalog);
        var mixed = example.MixedPipeline!;
        var stageChips = example.Plan.TensorParallelism * Data;
        scenario = example with
        {
            Cluster = example.Cluster with { SystemCount = 14 * stageChips / example.Cluster.System.Chips.Value },
            Plan = example.Plan with { DataParallelism = Data },
            Job = example.Job with { GlobalBatchSize = 64 * Data },
            MixedPipeline = mixed with { Cluster = mixed.Cluster with { SystemCount = 2 * stageChips / mixed.Cluster.System.Chips.Value } },
        };
    }

    /// <summary>One step of the mixed pipeline.</summary>
    [Benchmark]
    public MixedPipelineResult Simulate() => MixedPipelineEngine.Simulate(scenario);
}
