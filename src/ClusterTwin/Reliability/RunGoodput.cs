using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// A whole run with its interruptions: the expected wall time against the fault-free one, and what the difference is
/// made of (<see cref="Of"/>).
/// </summary>
/// <remarks>
/// Each checkpoint stops training for its copy out of the chips' memory (<c>delta</c>), then saves behind training. An
/// interruption loses the work since the last saved checkpoint, so a save's length adds to what each interruption
/// costs, as the restart does (<c>R</c> is the restart plus the save), and the next checkpoint cannot start before it
/// ends. Daly's formula (<see cref="CheckpointRestart"/>) then gives the expected wall time.
/// </remarks>
public sealed record RunGoodput
{
    /// <summary>Bytes of checkpoint state per parameter: 16-bit weights (2), FP32 master weights (4) and Adam's two FP32 moments (8), as Megatron-Core's distributed checkpoint saves them.</summary>
    public const double CheckpointBytesPerParameter = 2 + 4 + 8;

    /// <summary>The run at the predicted step time with nothing ever failing.</summary>
    public required Duration FaultFree { get; init; }

    /// <summary>The expected wall time; null where the run would not finish (<see cref="CheckpointRestart.MostSlowdown"/>).</summary>
    public required Duration? Expected { get; init; }

    /// <summary>The expected wall time at the band's fast end, the rarest interruptions and the quickest recovery the figures allow.</summary>
    public Duration? ExpectedLow { get; init; }

    /// <summary>The expected wall time at the band's slow end, the most frequent interruptions and the slowest recovery; null where that run would not finish.</summary>
    public Duration? ExpectedHigh { get; init; }

    /// <summary>The cluster's mean time between interruptions: the chip-time between them over the chips.</summary>
    public required Duration MeanTimeBetweenInterruptions { get; init; }

    /// <summary>The time between checkpoints: the scenario's, or Daly's optimum, in whole steps and at least a save's length.</summary>
    public required Duration CheckpointInterval { get; init; }

    /// <summary>Whether <see cref="CheckpointInterval"/> was chosen by the model rather than named by the scenario (a named one shorter than a save waits for it).</summary>
    public required bool IntervalIsOptimal { get; init; }

    /// <summary>The state a checkpoint holds, the whole cluster's.</summary>
    public required Bytes CheckpointSize { get; init; }

    /// <summary>The time each checkpoint stops training: each chip's share copied out of its memory.</summary>
    public required Duration CheckpointStall { get; init; }

    /// <summary>The save behind training that follows each copy.</summary>
    public required Duration CheckpointSave { get; init; }

    /// <summary>The time from an interruption to training again.</summary>
    public required Duration Restart { get; init; }

    /// <summary>Where the chip-time between interruptions comes from, for reports.</summary>
    public required string RateSource { get; init; }

    /// <summary>Fault-free time over expected time: the share of the wall time that trains (the effective training time ratio); zero where the run would not finish.</summary>
    public double Goodput => Expected is { } expected ? FaultFree / expected : 0;

    /// <summary>Interruptions expected over the run.</summary>
    public double? ExpectedInterruptions => Expected is { } expected ? expected / MeanTimeBetweenInterruptions : null;

    /// <summary>
    /// The run of <paramref name="steps"/> steps on <paramref name="chips"/> chips, whose fault-free length is
    /// <paramref name="faultFree"/> (and <paramref name="fastest"/> to <paramref name="slowest"/> across the step's
    /// band), for a model of <paramref name="parameters"/> parameters whose checkpoint is spread over every chip.
    /// </summary>
    public static RunGoodput Of(ResilienceSettings settings, long chips, double parameters, double steps, Duration faultFree, Duration fastest, Duration slowest)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentOutOfRangeException.ThrowIfLessThan(chips, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(steps, 1);
        var share = Bytes.FromCount(parameters * CheckpointBytesPerParameter / chips);
        var rate = settings.ChipTimeBetweenInterruptions;
        var (restart, copy, save) = (settings.Restart, settings.CheckpointCopyPerChip, settings.CheckpointSavePerChip);
        var centre = Run(settings.CheckpointInterval, chips, share, rate.Value, restart.Value, copy.Value, save.Value, faultFree, faultFree / steps);
        // The band pairs the fast step with the rarest interruptions and the quickest recovery, the slow step with the
        // most frequent and the slowest: the widest range the figures allow.
        var low = Run(settings.CheckpointInterval, chips, share, rate.Highest, restart.Lowest, copy.Highest, save.Highest, fastest, fastest / steps);
        var high = Run(settings.CheckpointInterval, chips, share, rate.Lowest, restart.Highest, copy.Lowest, save.Lowest, slowest, slowest / steps);
        return centre with { ExpectedLow = low.Expected, ExpectedHigh = high.Expected, RateSource = Describe(rate) };
    }

    private static RunGoodput Run(Duration? named, long chips, Bytes share, Duration chipTime, Duration restart, Bandwidth copy, Bandwidth save, Duration faultFree, Duration step)
    {
        var mean = chipTime / chips;
        var stall = share / copy;
        var saving = share / save;
        var interval = Interval(named ?? CheckpointRestart.OptimalInterval(stall, mean), saving, step, faultFree);
        var slowdown = CheckpointRestart.Slowdown(interval, stall, restart + saving, mean);
        return new RunGoodput
        {
            FaultFree = faultFree,
            Expected = slowdown is { } factor ? faultFree * factor : null,
            MeanTimeBetweenInterruptions = mean,
            CheckpointInterval = interval,
            IntervalIsOptimal = named is null,
            CheckpointSize = share * chips,
            CheckpointStall = stall,
            CheckpointSave = saving,
            Restart = restart,
            RateSource = string.Empty,
        };
    }

    /// <summary>
    /// <paramref name="wanted"/> as a checkpoint interval can be: a whole number of steps (a checkpoint is taken between
    /// steps), the nearest to it, no shorter than <paramref name="saving"/> (the next cannot start before the last is
    /// saved) and no longer than the run (<paramref name="run"/>: one checkpoint at its end).
    /// </summary>
    private static Duration Interval(Duration wanted, Duration saving, Duration step, Duration run)
    {
        var steps = Math.Max(1, Math.Round(wanted / step));
        steps = Math.Max(steps, Math.Ceiling(saving / step));
        return step * Math.Min(steps, Math.Round(run / step));
    }

    private static string Describe(Figure<Duration> rate) => $"{rate.Source} ({rate.Status.ToString().ToLowerInvariant()})";
}
