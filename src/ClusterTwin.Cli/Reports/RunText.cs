using System.Globalization;
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

    /// <summary>The simulated runs' mean, its standard error and their P10-P90 ("72 days ± 0.02 (70.9 - 73.2 days)"), or that none finished.</summary>
    public static string Simulated(SimulatedRuns runs)
    {
        if (runs.WallTimes.IsEmpty)
        {
            return $"none of {runs.Count} finished within {CheckpointRestart.MostSlowdown:0}x the fault-free time";
        }

        var mean = runs.Mean;
        return $"{RunLength.Of(mean)} ± {RunLength.Of(runs.StandardError)} ({RunLength.Of(runs.Percentile(0.1), mean)} - {RunLength.Of(runs.Percentile(0.9), mean)})";
    }

    /// <summary>How many runs were drawn and from what seed, with any cut by the interruption budget or stopped unfinished.</summary>
    public static string SimulatedCount(SimulatedRuns runs)
    {
        var count = runs.Count < runs.Requested
            ? $"{runs.Count:N0} of the {runs.Requested:N0} asked for (at most {SimulatedRuns.MostInterruptions:N0} interruptions in all)"
            : $"{runs.Count:N0}";
        var unfinished = runs.Unfinished > 0 ? $"; {runs.Unfinished:N0} stopped unfinished at {CheckpointRestart.MostSlowdown:0}x the fault-free time" : string.Empty;
        return FormattableString.Invariant($"{count}, seed {runs.Seed}{unfinished}");
    }

    /// <summary>Where a simulated run's mean wall time goes ("training 66.4 days, re-done 3.1 days, restarting 2.4 days, stalled for copies 0.3 days").</summary>
    public static string SimulatedParts(SimulatedRuns runs)
    {
        var mean = runs.Mean;
        var waiting = runs.Spares is null ? string.Empty : $", waiting for spares {RunLength.Of(runs.MeanWaitingForSpares, mean)}";
        return $"training {RunLength.Of(runs.FaultFree, mean)}, re-done {RunLength.Of(runs.MeanLost, mean)}, restarting {RunLength.Of(runs.MeanRestarting, mean)}{waiting}, stalled for copies {RunLength.Of(runs.MeanStalled, mean)}";
    }

    /// <summary>The spare servers and how many are away at a time ("64, each 2 days in repair; 374 away at a time in the steady state, as 78% of interruptions take one out").</summary>
    public static string Spares(SpareServers spares, Duration meanTimeBetweenInterruptions)
    {
        return FormattableString.Invariant(
            $"{spares.Count:N0}, each {RunLength.Of(spares.RepairTime)} in repair; {Count(spares.InRepair(meanTimeBetweenInterruptions))} away at a time in the steady state (Little's law), as {Format.Percent(spares.ReplacementShare.Value)} of interruptions take one out");
    }

    /// <summary>A count of interruptions or servers: to three figures under ten, else whole ("3.42", "1,133").</summary>
    public static string Count(double count) => count < 10 ? Format.Number(count) : count.ToString("N0", CultureInfo.InvariantCulture);

    /// <summary>How long the simulated runs waited for a spare and how many did ("3.2 days a run; 98% of runs waited").</summary>
    public static string SpareWait(SimulatedRuns runs) => runs.WallTimes.IsEmpty
        ? "-"
        : $"{RunLength.Of(runs.MeanWaitingForSpares)} a run on average; {Format.Percent((double)runs.RunsThatWaited / runs.WallTimes.Length)} of the runs waited";

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
