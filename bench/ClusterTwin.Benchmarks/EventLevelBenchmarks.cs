using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Reliability;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The event-level engine on Llama 3 405B on Trn3 Gen2 UltraServers at 1K, 100K and 1M chips
/// (<c>examples/stragglers/llama3-405b-trn3-1m-spread-transients.yaml</c>: 18 ranks, 7 chunks, 18 micro-batches, 4,536
/// passes a step): one replay kept pass by pass (the trace), and a thousand straggler draws. A rank stands for all the
/// chips that share its work and the slowest of them is drawn directly, so neither may grow with the chips.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class EventLevelBenchmarks
{
    private PipelineStages stages = null!;
    private StragglerSettings stragglers = null!;
    private long chips;

    /// <summary>Approximate chip count (rounded to whole 144-chip UltraServers).</summary>
    [Params(1_000, 100_000, 1_000_000)]
    public int Chips { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        var million = ScenarioLoader.Load(Examples.Path(catalog, Path.Combine("stragglers", "llama3-405b-trn3-1m-spread-transients.yaml")), catalog);
        var scenario = Examples.AtChips(million, Chips);
        stages = AnalyticalEngine.Stages(scenario)!;
        stragglers = scenario.Stragglers! with { Draws = 1000 };
        chips = scenario.Cluster.ChipCount;
    }

    /// <summary>One replay, every pass kept.</summary>
    [Benchmark(Baseline = true)]
    public StepTimeline Replay() => PipelineTimeline.Of(stages);

    /// <summary>A thousand steps drawn with stragglers (the spread cut at +2%, and transients).</summary>
    [Benchmark]
    public StragglerDraws Stragglers() => StragglerDraws.Of(stages, chips, stragglers);
}
