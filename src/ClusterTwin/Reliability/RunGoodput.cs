using ClusterTwin.Hardware;
using ClusterTwin.Performance.Memory;
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
    /// <summary>Bytes of checkpoint state per parameter: 16-bit weights (2) and the optimizer state the memory model holds (FP32 master weights and Adam's two FP32 moments), as Megatron-Core's distributed checkpoint saves them.</summary>
    public const double CheckpointBytesPerParameter = 2 + MemoryModel.OptimizerBytesPerParameter;

    /// <summary>The run at the predicted step time with nothing ever failing.</summary>
    public required Duration FaultFree { get; init; }

    /// <summary>The expected wall time; null where the run would not finish (<see cref="CheckpointRestart.MostSlowdown"/>).</summary>
    public required Duration? Expected { get; init; }

    /// <summary>The band's fast end: the step's P10 with the rarest interruptions and the quickest recovery the figures allow; null on an end itself.</summary>
    public RunGoodput? Fastest { get; init; }

    /// <summary>The band's slow end: the step's P90 with the most frequent interruptions and the slowest recovery; null on an end itself.</summary>
    public RunGoodput? Slowest { get; init; }

    /// <summary>The cluster's mean time between interruptions: the chip-time between them over the chips.</summary>
    public required Duration MeanTimeBetweenInterruptions { get; init; }

    /// <summary>The time between checkpoints, in whole steps.</summary>
    public required Duration CheckpointInterval { get; init; }

    /// <summary>What set <see cref="CheckpointInterval"/>.</summary>
    public required CheckpointIntervalBound IntervalBound { get; init; }

    /// <summary>Daly's optimum interval for the run's interruptions, before it was held to whole steps, a save and the run.</summary>
    public required Duration OptimalInterval { get; init; }

    /// <summary>The scenario's interval, where it names one (<see cref="IntervalBound"/> says whether it stood).</summary>
    public Duration? NamedInterval { get; init; }

    /// <summary>Whether the storage's whole write rate, rather than each chip's, set <see cref="CheckpointSave"/>.</summary>
    public bool SaveBoundByStorage { get; init; }

    /// <summary>The state a checkpoint holds, the whole cluster's.</summary>
    public required Bytes CheckpointSize { get; init; }

    /// <summary>The time each checkpoint stops training: each chip's share copied out of its memory.</summary>
    public required Duration CheckpointStall { get; init; }

    /// <summary>The save behind training that follows each copy: each chip's share at its rate, or the whole at the storage's, the longer.</summary>
    public required Duration CheckpointSave { get; init; }

    /// <summary>The time from an interruption to training again.</summary>
    public required Duration Restart { get; init; }

    /// <summary>The chip-time between interruptions the run was read at the centre of; null on the band's ends.</summary>
    public Figure<Duration>? Rate { get; init; }

    /// <summary>The run drawn event by event, many times over, where a command asked for it (<see cref="WithSimulatedRuns"/>); null in searches.</summary>
    public SimulatedRuns? Simulated { get; init; }

    /// <summary>Where the chip-time between interruptions comes from, for reports: its source and status (worded when read, as a search reads few).</summary>
    public string RateSource => Rate is { } rate ? $"{rate.Source} ({rate.Status.ToString().ToLowerInvariant()})" : string.Empty;

    /// <summary>Fault-free time over expected time: the share of the wall time that trains (the effective training time ratio); zero where the run would not finish.</summary>
    public double Goodput => Expected is { } expected ? FaultFree / expected : 0;

    /// <summary>Expected time over fault-free time: what holding the chips for the whole run multiplies its cost by; null where it would not finish.</summary>
    public double? Slowdown => Expected is { } expected ? expected / FaultFree : null;

    /// <summary>The expected wall time at the band's fast end.</summary>
    public Duration? ExpectedLow => Fastest is { } fastest ? fastest.Expected : Expected;

    /// <summary>The expected wall time at the band's slow end; null where that run would not finish.</summary>
    public Duration? ExpectedHigh => Slowest is { } slowest ? slowest.Expected : Expected;

    /// <summary>The whole run's cost at <paramref name="perStep"/> a step: the chips are held, and paid for, for the whole wall time; null where it would not finish.</summary>
    public Money? CostOf(Money perStep, double steps) => Slowdown is { } slowdown ? perStep * steps * slowdown : null;

    /// <summary>
    /// The whole run's energy at <paramref name="perStep"/> a step, the lost time charged at the training power: an
    /// upper bound (chips restarting draw less); null where it would not finish.
    /// </summary>
    public Energy? EnergyOf(Energy perStep, double steps) => Slowdown is { } slowdown ? perStep * steps * slowdown : null;

    /// <summary>Interruptions expected over the run.</summary>
    public double? ExpectedInterruptions => Expected is { } expected ? expected / MeanTimeBetweenInterruptions : null;

    /// <summary>What each interruption costs on top of the lost work: the restart, and the save that was under way (none where the one checkpoint is at the run's end).</summary>
    public Duration Recovery => RecoveryOf(IntervalBound, Restart, CheckpointSave);

    /// <summary>Why the run would not finish, in words, naming the largest cause against the time between interruptions; null where it does.</summary>
    public string? WhyNever
    {
        get
        {
            if (Expected is not null)
            {
                return null;
            }

            var between = RunLength.Of(MeanTimeBetweenInterruptions);
            var largest = new[] { Recovery, CheckpointStall, CheckpointInterval }.Max();
            return largest == Recovery
                ? $"interrupted every {between}, sooner than the run recovers ({RunLength.Of(Restart)} to restart{(Recovery > Restart ? $", {RunLength.Of(CheckpointSave)} to save a checkpoint" : string.Empty)})"
                : largest == CheckpointStall
                    ? $"stalled {RunLength.Of(CheckpointStall)} by each checkpoint, against {between} between interruptions"
                    : $"checkpointed every {RunLength.Of(CheckpointInterval)}, against {between} between interruptions";
        }
    }

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
        var size = Bytes.FromCount(parameters * CheckpointBytesPerParameter);
        var rate = settings.ChipTimeBetweenInterruptions;
        var (restart, copy, save) = (settings.Restart, settings.CheckpointCopyPerChip, settings.CheckpointSavePerChip);
        var run = new Run(settings.CheckpointInterval, settings.StorageWriteBandwidth, chips, size, steps);
        // The band pairs the fast step with the rarest interruptions and the quickest recovery, the slow step with the
        // most frequent and the slowest: the extremes of every figure's range, wider than a P10-P90.
        return run.At(rate.Value, restart.Value, copy.Value, save.Value, faultFree) with
        {
            Fastest = run.At(rate.Highest, restart.Lowest, copy.Highest, save.Highest, fastest),
            Slowest = run.At(rate.Lowest, restart.Highest, copy.Lowest, save.Lowest, slowest),
            Rate = rate,
        };
    }

    /// <summary>This run with as many runs of its schedule drawn as <paramref name="settings"/> ask, on their spare servers (<see cref="Simulated"/>); itself for none.</summary>
    public RunGoodput WithSimulatedRuns(ResilienceSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return settings.SimulatedRuns > 0 ? this with { Simulated = SimulatedRuns.Of(this, settings.SimulatedRuns, settings.Seed, settings.Spares) } : this;
    }

    /// <summary>What an interruption costs on top of the lost work: the restart, and the save under way, except where the one checkpoint is at the run's end.</summary>
    private static Duration RecoveryOf(CheckpointIntervalBound bound, Duration restart, Duration save) =>
        bound == CheckpointIntervalBound.Run ? restart : restart + save;

    /// <summary>What the run's three readings share: the interval named, the storage, the chips, the checkpoint and the steps.</summary>
    private readonly record struct Run(Duration? Named, Bandwidth? Storage, long Chips, Bytes Size, double Steps)
    {
        public RunGoodput At(Duration chipTime, Duration restart, Bandwidth copy, Bandwidth save, Duration faultFree)
        {
            var mean = chipTime / Chips;
            var share = Size / Chips;
            var stall = share / copy;
            var (byChip, byStorage) = (share / save, Storage is { } storage ? Size / storage : Duration.Zero);
            var storageBound = byStorage > byChip;
            var saving = storageBound ? byStorage : byChip;
            var optimum = CheckpointRestart.OptimalInterval(stall, mean);
            var (interval, bound) = Interval(optimum, saving, faultFree / Steps);
            var slowdown = CheckpointRestart.Slowdown(interval, stall, RecoveryOf(bound, restart, saving), mean);
            return new RunGoodput
            {
                FaultFree = faultFree,
                Expected = slowdown is { } factor ? faultFree * factor : null,
                MeanTimeBetweenInterruptions = mean,
                CheckpointInterval = interval,
                IntervalBound = bound,
                OptimalInterval = optimum,
                NamedInterval = Named,
                SaveBoundByStorage = storageBound,
                CheckpointSize = Size,
                CheckpointStall = stall,
                CheckpointSave = saving,
                Restart = restart,
            };
        }

        /// <summary>
        /// The interval wanted (the scenario's, else <paramref name="optimum"/>) as a checkpoint interval can be: a whole
        /// number of steps, the nearest to it, no shorter than <paramref name="saving"/> (the next cannot start before
        /// the last is saved) and no longer than the run (one checkpoint at its end; a run shorter than a save ends
        /// before its checkpoint is saved).
        /// </summary>
        private (Duration Interval, CheckpointIntervalBound Bound) Interval(Duration optimum, Duration saving, Duration step)
        {
            var (steps, bound) = (Math.Round((Named ?? optimum) / step), Named is null ? CheckpointIntervalBound.Optimum : CheckpointIntervalBound.Scenario);
            if (steps < 1)
            {
                (steps, bound) = (1, CheckpointIntervalBound.OneStep);
            }

            var saved = Math.Ceiling(saving / step);
            if (steps < saved)
            {
                (steps, bound) = (saved, CheckpointIntervalBound.Save);
            }

            if (steps > Steps)
            {
                (steps, bound) = (Steps, CheckpointIntervalBound.Run);
            }

            return (step * steps, bound);
        }
    }
}
