using ClusterTwin.Reliability;
using ClusterTwin.Units;

namespace ClusterTwin.Cli.Reports;

/// <summary>How the reports word a run with its interruptions (docs/reliability.md): one wording for simulate, compare and train-search.</summary>
internal static class RunText
{
    /// <summary>The expected time with its range ("89 days (2.55 days - never)"), or why the run never finishes.</summary>
    public static string Expected(RunGoodput run) => run.Expected is { } expected
        ? $"{RunLength.Of(expected)} ({End(run.ExpectedLow, expected)} - {End(run.ExpectedHigh, expected)})"
        : $"never: {run.WhyNever}";

    /// <summary>A run's cost and its range ("$195M ($163.1M - $276.8M)"), an end that never finishes worded so.</summary>
    public static string Cost(Money centre, Money? low, Money? high) => $"{centre} ({Ends(low)} - {Ends(high)})";

    /// <summary>The goodput, or "under 0.1%" where the run never finishes.</summary>
    public static string Goodput(RunGoodput run) => run.Expected is null ? "under 0.1%" : Format.Percent(run.Goodput);

    /// <summary>The checkpoint interval with what set it ("105 s, Daly's optimum").</summary>
    public static string Interval(RunGoodput run)
    {
        var wanted = run.NamedInterval is { } named ? $"the scenario's {RunLength.Of(named)}" : $"Daly's optimum, {RunLength.Of(run.OptimalInterval)},";
        return RunLength.Of(run.CheckpointInterval) + run.IntervalBound switch
        {
            CheckpointIntervalBound.Optimum => ", Daly's optimum",
            CheckpointIntervalBound.Scenario => ", the scenario's",
            CheckpointIntervalBound.OneStep => $", one step ({wanted} is shorter)",
            CheckpointIntervalBound.Save => $", a save's length ({wanted} is shorter)",
            _ => $", the whole run: one checkpoint, at its end ({wanted} is longer)",
        };
    }

    /// <summary>The checkpoint's state, stall and save, and what bounds the save ("5.168 TiB, 510 ms, 43.9 s").</summary>
    public static string Checkpoint(RunGoodput run) =>
        $"{run.CheckpointSize}, {run.CheckpointStall}, {RunLength.Of(run.CheckpointSave)}{(run.SaveBoundByStorage ? " (the storage's write rate)" : string.Empty)}";

    /// <summary>The bound's name in JSON.</summary>
    public static string IntervalBound(CheckpointIntervalBound bound) => bound switch
    {
        CheckpointIntervalBound.Optimum => "optimum",
        CheckpointIntervalBound.Scenario => "scenario",
        CheckpointIntervalBound.OneStep => "one-step",
        CheckpointIntervalBound.Save => "save",
        _ => "run",
    };

    private static string Ends(Money? end) => end?.ToString() ?? "never ends";

    private static string End(Duration? end, Duration centre) => end is { } time ? RunLength.Of(time, centre) : "never";
}
