using BenchmarkDotNet.Attributes;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;

namespace ClusterTwin.Benchmarks;

/// <summary>
/// The three pipeline schedules on DeepSeek-V3 at DeepSeek's layout on 2,048 H100
/// (<c>examples/compare-schedules/deepseek-v3-h100-2048-*.yaml</c>: 16 ranks, 120 micro-batches): the closed form's
/// step, one replay keeping every pass, and a replay reused (what each straggler draw costs). A zero-bubble schedule
/// replays a third more passes (the weight gradients apart) from orders it stores, 1F1B works its order out.
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class PipelineScheduleBenchmarks
{
    private Scenario scenario = null!;
    private PipelineStages stages = null!;
    private PipelineTimeline timeline = null!;

    /// <summary>The schedule's scenario key.</summary>
    [Params("1f1b", "zero-bubble", "dualpipe")]
    public string Schedule { get; set; } = "1f1b";

    [GlobalSetup]
    public void Setup()
    {
        var catalog = Examples.Catalog();
        scenario = ScenarioLoader.Load(Examples.Path(catalog, Path.Combine("compare-schedules", $"deepseek-v3-h100-2048-{Schedule}.yaml")), catalog);
        if (PipelineScheduleKeys.Key(scenario.Plan.Schedule) != Schedule)
        {
            throw new InvalidOperationException($"the example runs {PipelineScheduleKeys.Key(scenario.Plan.Schedule)}, not {Schedule}");
        }

        stages = AnalyticalEngine.Stages(scenario)!;
        timeline = new PipelineTimeline(stages);
    }

    /// <summary>The closed form's step, without its band (the plan search's path).</summary>
    [Benchmark(Baseline = true)]
    public TrainingStepResult Step() => AnalyticalEngine.SimulateStep(scenario);

    /// <summary>One replay, every pass kept (the schedule's orders made anew).</summary>
    [Benchmark]
    public StepTimeline Replay() => PipelineTimeline.Of(stages);

    /// <summary>One more replay of a prepared timeline: what each straggler draw's replay costs.</summary>
    [Benchmark]
    public ClusterTwin.Units.Duration Replayed() => timeline.Pipeline(ReadOnlySpan<double>.Empty);
}
