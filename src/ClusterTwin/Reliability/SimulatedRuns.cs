using System.Collections.Immutable;
using ClusterTwin.Numerics;
using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// The run with its interruptions drawn event by event, many times over (<see cref="Of"/>): how its wall time spreads
/// where <see cref="RunGoodput"/> gives Daly's expectation, and what the time goes to.
/// </summary>
/// <remarks>
/// Each run draws its interruptions from a seeded stream, exponentially spaced at the cluster's mean time between them
/// (the same assumption as Daly's). Training checkpoints every interval of work, stalling for each copy; the save
/// then runs behind training, and a checkpoint counts only once saved. An interruption, during training, a copy or a
/// restart, loses everything since the last saved checkpoint and starts the restart again. Without a save behind
/// training the mean of the runs converges on Daly's formula, which is exact for this process; with one, it measures
/// how far the analytical model's charge of a whole save to every interruption is from the schedule itself. With
/// <see cref="SpareServers"/> named, an interruption that takes a server out restarts on a spare or waits for one back
/// from repair, which the analytical model cannot see. A run's cost grows with its interruptions and not with its steps or chips: the checkpoints between two
/// interruptions are crossed in one step.
/// </remarks>
public sealed record SimulatedRuns
{
    /// <summary>The runs simulated unless a scenario asks for another number (<c>resilience.simulated_runs</c>).</summary>
    public const int DefaultRuns = 1000;

    /// <summary>
    /// The interruptions drawn over all the runs at most: a cluster interrupted every few minutes for months draws tens
    /// of thousands a run, and the number of runs is cut to keep within this (<see cref="Requested"/> says how many were asked for).
    /// </summary>
    public const long MostInterruptions = 20_000_000;

    /// <summary>The runs asked for.</summary>
    public required int Requested { get; init; }

    /// <summary>The seed of the interruption stream.</summary>
    public required int Seed { get; init; }

    /// <summary>The wall time of every run that finished, shortest first.</summary>
    public required ImmutableArray<Duration> WallTimes { get; init; }

    /// <summary>Runs stopped unfinished at <see cref="CheckpointRestart.MostSlowdown"/> times the fault-free time.</summary>
    public required int Unfinished { get; init; }

    /// <summary>The fault-free time the runs train for.</summary>
    public required Duration FaultFree { get; init; }

    /// <summary>Interruptions a finished run meets on average, those during restarts included.</summary>
    public required double MeanInterruptions { get; init; }

    /// <summary>Time a finished run spends on average stalled by checkpoint copies that completed, those later rolled back too (a copy cut short is lost work).</summary>
    public required Duration MeanStalled { get; init; }

    /// <summary>Time a finished run spends on average restarting, restarts cut short included.</summary>
    public required Duration MeanRestarting { get; init; }

    /// <summary>The spare servers the runs drew on; null: a spare was always there.</summary>
    public SpareServers? Spares { get; init; }

    /// <summary>Time a finished run spends on average waiting for a server back from repair, every spare being in use.</summary>
    public Duration MeanWaitingForSpares { get; init; }

    /// <summary>The finished runs that waited for a spare at least once.</summary>
    public int RunsThatWaited { get; init; }

    /// <summary>Runs simulated: <see cref="Requested"/>, or fewer where <see cref="MostInterruptions"/> bounds them.</summary>
    public int Count => WallTimes.Length + Unfinished;

    /// <summary>The mean wall time of the runs that finished.</summary>
    public Duration Mean => Statistics.Mean(WallTimes);

    /// <summary>The standard error of <see cref="Mean"/>: the sample's standard deviation over the root of its size.</summary>
    public Duration StandardError => Statistics.StandardErrorOfMean(WallTimes);

    /// <summary>Time a finished run re-does on average: work and copies lost to interruptions.</summary>
    public Duration MeanLost => Mean - FaultFree - MeanStalled - MeanRestarting - MeanWaitingForSpares;

    /// <summary>The fault-free time over the mean wall time.</summary>
    public double Goodput => WallTimes.IsEmpty ? 0 : FaultFree / Mean;

    /// <summary>The wall time that <paramref name="fraction"/> of the finished runs take at most.</summary>
    public Duration Percentile(double fraction) => Statistics.Percentile(WallTimes, fraction);

    /// <summary>
    /// <paramref name="runs"/> runs of <paramref name="run"/>'s schedule (its interval, copy stall, save and restart at
    /// its mean time between interruptions), drawn from <paramref name="seed"/>, restarting on <paramref name="spares"/>
    /// where named (else on a spare always at hand); null where the run would not finish, or where one run alone would
    /// draw more than <see cref="MostInterruptions"/>.
    /// </summary>
    public static SimulatedRuns? Of(RunGoodput run, int runs = DefaultRuns, int seed = 1, SpareServers? spares = null)
    {
        ArgumentNullException.ThrowIfNull(run);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        if (run.ExpectedInterruptions is not { } expected || expected > MostInterruptions)
        {
            return null;
        }

        // The schedule saves each checkpoint before the next copy starts (RunGoodput holds the interval to at least a
        // save), except for the one checkpoint at a run's end.
        if (run.CheckpointSave > run.CheckpointInterval && run.IntervalBound != CheckpointIntervalBound.Run)
        {
            throw new ArgumentException($"a save of {run.CheckpointSave} outlasts the interval of {run.CheckpointInterval}", nameof(run));
        }

        var count = (int)Math.Clamp(MostInterruptions / Math.Max(1, expected), 1, runs);
        var schedule = new Schedule(run, spares);
        // The spares draw from their own stream, so that the same seed gives the same interruptions with spares and without.
        var (random, replacements) = (new Random(seed), new Random(unchecked((seed * 31) + 17)));
        var finished = ImmutableArray.CreateBuilder<Duration>(count);
        var (interruptions, stalled, restarting, waiting, waited) = (0L, 0.0, 0.0, 0.0, 0);
        for (var index = 0; index < count; index++)
        {
            var one = schedule.Draw(random, replacements);
            if (one.Finished)
            {
                finished.Add(Duration.FromSeconds(one.Wall));
                (interruptions, stalled, restarting, waiting) = (interruptions + one.Interruptions, stalled + one.Stalled, restarting + one.Restarting, waiting + one.Waiting);
                waited += one.Waiting > 0 ? 1 : 0;
            }
        }

        finished.Sort();
        var done = Math.Max(1, finished.Count);
        return new SimulatedRuns
        {
            Requested = runs,
            Seed = seed,
            WallTimes = finished.ToImmutable(),
            Unfinished = count - finished.Count,
            FaultFree = run.FaultFree,
            MeanInterruptions = (double)interruptions / done,
            MeanStalled = Duration.FromSeconds(stalled / done),
            MeanRestarting = Duration.FromSeconds(restarting / done),
            Spares = spares,
            MeanWaitingForSpares = Duration.FromSeconds(waiting / done),
            RunsThatWaited = waited,
        };
    }

    /// <summary>One run's draw: its wall time, whether it finished, and its interruptions, copy stalls, restarts and waits for spares.</summary>
    private readonly record struct Draw(double Wall, bool Finished, long Interruptions, double Stalled, double Restarting, double Waiting);

    /// <summary>The schedule of <see cref="RunGoodput"/> in seconds: checkpoints at every interval of work, the last at the run's end.</summary>
    private sealed class Schedule(RunGoodput run, SpareServers? spares)
    {
        private readonly double work = run.FaultFree.Seconds;
        private readonly double interval = IntervalOf(run);
        private readonly double stall = run.CheckpointStall.Seconds;
        private readonly double save = run.CheckpointSave.Seconds;
        private readonly double restart = run.Restart.Seconds;
        private readonly double mean = run.MeanTimeBetweenInterruptions.Seconds;
        private readonly double limit = run.FaultFree.Seconds * CheckpointRestart.MostSlowdown;
        private readonly double repair = spares?.RepairTime.Seconds ?? 0;
        private readonly double share = spares?.ReplacementShare.Value ?? 0;

        /// <summary>When each server away in repair comes back, in the order they left (every repair takes as long): one queue for every run, emptied at its start.</summary>
        private readonly Queue<double> away = new();

        /// <summary>Checkpoints over the run: one at every interval of work and one at its end.</summary>
        private readonly long checkpoints = (long)Math.Ceiling((run.FaultFree.Seconds / IntervalOf(run)) - 1e-9);

        /// <summary>The work before checkpoint <paramref name="index"/> (counted from one) since the one before it.</summary>
        private double SegmentWork(long index) => index < checkpoints ? interval : work - ((checkpoints - 1) * interval);

        public Draw Draw(Random random, Random replacements)
        {
            var last = checkpoints;
            var (now, next) = (0.0, Next(random, 0));
            // Training runs on from checkpoint `from`; `saved` is the last checkpoint saved, and `pending` the one
            // being saved behind training (-1: none) until `pendingSaved`.
            var (from, saved, pending, pendingSaved) = (0L, 0L, -1L, 0.0);
            var (interruptions, stalled, restarting, waiting) = (0L, 0.0, 0.0, 0.0);
            var shelf = spares?.Count ?? 0;
            away.Clear();
            var segment = interval + stall;
            while (now < limit)
            {
                // Every whole interval before the next interruption, crossed at once, short of the run's last checkpoint.
                var whole = (long)Math.Min(last - 1 - from, Math.Floor((next - now) / segment));
                if (whole > 0)
                {
                    // The save of each checkpoint ends before the next copy starts (the interval is at least a save), so
                    // only the last one crossed is still being saved.
                    saved = whole >= 2 ? from + whole - 1 : pending >= 0 ? pending : saved;
                    (from, now, stalled) = (from + whole, now + (whole * segment), stalled + (whole * stall));
                    (pending, pendingSaved) = (from, now + save);
                    continue;
                }

                var through = now + SegmentWork(from + 1) + stall;
                if (from + 1 == last && next >= through)
                {
                    // The last checkpoint: the run ends once its copy is out of the chips' memory.
                    return new Draw(through, true, interruptions, stalled + stall, restarting, waiting);
                }

                // An interruption: back to the last saved checkpoint, a server for the one taken out, and restart until
                // a restart completes.
                now = next;
                interruptions++;
                saved = pending >= 0 && pendingSaved <= now ? pending : saved;
                (from, pending) = (saved, -1);
                (now, waiting) = Replace(replacements, now, waiting, ref shelf);
                next = Next(random, now);
                while (next < now + restart && now < limit)
                {
                    (restarting, now, interruptions) = (restarting + (next - now), next, interruptions + 1);
                    (now, waiting) = Replace(replacements, now, waiting, ref shelf);
                    next = Next(random, now);
                }

                (restarting, now) = (restarting + restart, now + restart);
            }

            return new Draw(now, false, interruptions, stalled, restarting, waiting);
        }

        /// <summary>
        /// Where the interruption at <paramref name="now"/> took a server out (at the replacement share; none drawn
        /// without spares named), a spare takes its place, or with none on the shelf the job waits for the first server
        /// back from repair. Returns when the job can restart and the time waited so far.
        /// </summary>
        private (double Now, double Waiting) Replace(Random random, double now, double waiting, ref int shelf)
        {
            if (spares is null || random.NextDouble() >= share)
            {
                return (now, waiting);
            }

            while (away.Count > 0 && away.Peek() <= now)
            {
                away.Dequeue();
                shelf++;
            }

            away.Enqueue(now + repair);
            if (shelf > 0)
            {
                shelf--;
                return (now, waiting);
            }

            var back = away.Dequeue();
            return (back, waiting + (back - now));
        }

        /// <summary>The work between checkpoints: the run's interval, or the whole run where that is shorter.</summary>
        private static double IntervalOf(RunGoodput run) => Math.Min(run.CheckpointInterval.Seconds, run.FaultFree.Seconds);

        /// <summary>The time of the next interruption after <paramref name="now"/>: an exponential draw, never infinite.</summary>
        private double Next(Random random, double now) => now - (mean * Math.Log(1 - random.NextDouble()));
    }
}
