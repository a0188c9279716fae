using ClusterTwin.Hardware;
using ClusterTwin.Reliability;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Reliability;

public class SimulatedRunsTests
{
    /// <summary>
    /// A run of <paramref name="hours"/> fault-free hours, checkpointing every <paramref name="intervalMinutes"/> with a
    /// copy stall and a save behind training, on a cluster interrupted every <paramref name="meanMinutes"/>.
    /// </summary>
    private static RunGoodput Run(double hours = 100, double intervalMinutes = 30, double stallSeconds = 20, double saveMinutes = 0, double restartMinutes = 10, double meanMinutes = 300)
    {
        var (faultFree, interval, stall, restart, mean) = (Duration.FromSeconds(hours * 3600), Duration.FromSeconds(intervalMinutes * 60), Duration.FromSeconds(stallSeconds), Duration.FromSeconds(restartMinutes * 60), Duration.FromSeconds(meanMinutes * 60));
        var save = Duration.FromSeconds(saveMinutes * 60);
        return new RunGoodput
        {
            FaultFree = faultFree,
            Expected = faultFree * CheckpointRestart.Slowdown(interval, stall, restart + save, mean),
            MeanTimeBetweenInterruptions = mean,
            CheckpointInterval = interval,
            IntervalBound = CheckpointIntervalBound.Scenario,
            OptimalInterval = CheckpointRestart.OptimalInterval(stall, mean),
            CheckpointSize = Bytes.FromCount(1e12),
            CheckpointStall = stall,
            CheckpointSave = save,
            Restart = restart,
        };
    }

    [Theory]
    [InlineData(30, 20, 10, 300)]
    [InlineData(60, 120, 30, 120)]
    [InlineData(5, 5, 2, 20)]
    [InlineData(100, 300, 60, 100)]
    public void WithoutASaveBehindTraining_TheMeanRun_IsDalysExactExpectation(double intervalMinutes, double stallSeconds, double restartMinutes, double meanMinutes)
    {
        // Daly's formula is the exact mean of this process (exponential interruptions that may strike a copy or a
        // restart), for a run of whole intervals: the mean of 2,000 runs must fall within four standard errors of it.
        var run = Run(hours: 50, intervalMinutes: intervalMinutes, stallSeconds: stallSeconds, restartMinutes: restartMinutes, meanMinutes: meanMinutes);
        var runs = SimulatedRuns.Of(run, 2000, seed: 7)!;
        Assert.Equal(0, runs.Unfinished);
        var error = Math.Abs(runs.Mean.Seconds - run.Expected!.Value.Seconds);
        Assert.True(error < 4 * runs.StandardError.Seconds, $"mean {runs.Mean.Seconds} s against Daly's {run.Expected.Value.Seconds} s, standard error {runs.StandardError.Seconds} s");
        Assert.True(runs.StandardError.Seconds > 0);
    }

    [Fact]
    public void TheWallTime_GoesToStallsRestartsAndWorkLost_EachBounded()
    {
        var runs = SimulatedRuns.Of(Run(saveMinutes: 10), 500)!;
        Assert.True(runs.MeanStalled.Seconds > 0 && runs.MeanRestarting.Seconds > 0 && runs.MeanLost.Seconds > 0);
        // Every interruption pays a restart of 10 minutes or is itself cut short by one.
        Assert.InRange(runs.MeanRestarting.Seconds, 0, (runs.MeanInterruptions * 600) + 1e-6);
        // Each interval of work stalls once for its copy, at least, over the run's 200 intervals.
        Assert.True(runs.MeanStalled.Seconds >= 200 * 20 - 1e-6);
    }

    [Fact]
    public void ASaveBehindTraining_CostsAboutTheWholeSaveTheAnalyticalModelCharges()
    {
        // Daly's formula with the save added to every restart charges each interruption a whole save; the schedule
        // loses an extra interval only to the interruptions that strike while a save is under way (about save over
        // interval of them), which comes to about the same. Both must be well above the run without a save.
        var run = Run(intervalMinutes: 60, saveMinutes: 20, meanMinutes: 120);
        var runs = SimulatedRuns.Of(run, 2000)!;
        var withoutSave = Run(intervalMinutes: 60, saveMinutes: 0, meanMinutes: 120).Expected!.Value;
        Assert.True(Math.Abs(runs.Mean.Seconds - run.Expected!.Value.Seconds) < 4 * runs.StandardError.Seconds, $"mean {runs.Mean.Seconds} s against {run.Expected.Value.Seconds} s");
        Assert.True(runs.Mean.Seconds - withoutSave.Seconds > 8 * runs.StandardError.Seconds, $"mean {runs.Mean.Seconds} s against {withoutSave.Seconds} s without a save");
    }

    [Fact]
    public void ASaveLongerThanTheInterval_IsRefused()
    {
        Assert.Throws<ArgumentException>(() => SimulatedRuns.Of(Run(intervalMinutes: 10, saveMinutes: 20)));
    }

    [Fact]
    public void Spares_DrawFromTheirOwnStream_LeavingTheInterruptionsAsTheyWere()
    {
        // With spares never short, the runs are the same runs, bit for bit.
        var run = Run(meanMinutes: 120);
        Assert.Equal<Duration>(SimulatedRuns.Of(run, 200)!.WallTimes.AsEnumerable(), SimulatedRuns.Of(run, 200, spares: Spares(1000, 1))!.WallTimes.AsEnumerable());
    }

    [Fact]
    public void WithoutInterruptions_EveryRunIsTheWorkAndItsCopies()
    {
        var run = Run(hours: 10, intervalMinutes: 60, stallSeconds: 30, meanMinutes: 1e12);
        var runs = SimulatedRuns.Of(run, 10)!;
        Assert.All(runs.WallTimes, time => Within.Relative((10 * 3600) + (10 * 30), time.Seconds, 1e-9));
        Assert.Equal(0, runs.MeanInterruptions);
    }

    [Fact]
    public void AShorterLastInterval_EndsTheRunAtItsWork()
    {
        // 100 hours in 90-minute intervals: 66 whole intervals and a last one of 60 minutes, 67 copies.
        var run = Run(hours: 100, intervalMinutes: 90, stallSeconds: 10, meanMinutes: 1e12);
        Within.Relative((100 * 3600) + (67 * 10), SimulatedRuns.Of(run, 1)!.Mean.Seconds, 1e-9);
    }

    [Fact]
    public void TheSameSeed_GivesTheSameRuns_BitForBit_AndAnotherSeedOthers()
    {
        var run = Run(saveMinutes: 5);
        var first = SimulatedRuns.Of(run, 300, seed: 3)!;
        var again = SimulatedRuns.Of(run, 300, seed: 3)!;
        var other = SimulatedRuns.Of(run, 300, seed: 4)!;
        Assert.Equal(first.WallTimes.Select(time => BitConverter.DoubleToInt64Bits(time.Seconds)), again.WallTimes.Select(time => BitConverter.DoubleToInt64Bits(time.Seconds)));
        Assert.NotEqual(first.Mean, other.Mean);
    }

    [Fact]
    public void TheSpread_OrdersItsPercentiles_AroundTheMean()
    {
        var runs = SimulatedRuns.Of(Run(meanMinutes: 60), 1000)!;
        var (p10, p50, p90) = (runs.Percentile(0.1), runs.Percentile(0.5), runs.Percentile(0.9));
        Assert.True(runs.WallTimes[0] <= p10 && p10 < p50 && p50 < p90 && p90 <= runs.WallTimes[^1]);
        Assert.InRange(runs.Mean.Seconds, p10.Seconds, p90.Seconds);
    }

    [Fact]
    public void AClusterInterruptedEveryFewMinutes_DrawsFewerRuns_WithinTheInterruptionBudget()
    {
        // 40 interruptions an hour for about 1,000 hours (twice the 500 fault-free): some 40,000 a run, so fewer runs
        // than asked fit in the budget.
        var run = Run(hours: 500, intervalMinutes: 1, stallSeconds: 1, restartMinutes: 0.5, meanMinutes: 1.5);
        var runs = SimulatedRuns.Of(run, 1000)!;
        Assert.Equal(1000, runs.Requested);
        Assert.InRange(runs.Count, 1, 999);
        Assert.InRange(runs.Count * runs.MeanInterruptions, 0.5 * SimulatedRuns.MostInterruptions, 1.5 * SimulatedRuns.MostInterruptions);
    }

    [Fact]
    public void ARunThatWouldNeverFinish_IsNotSimulated()
    {
        var run = Run(restartMinutes: 60, meanMinutes: 3) with { Expected = null };
        Assert.Null(SimulatedRuns.Of(run));
    }

    private static SpareServers Spares(int count, double repairHours, double share = 0.78) =>
        new(count, Duration.FromSeconds(repairHours * 3600), Figure.Assumed(share, "test"));

    [Fact]
    public void WithoutSpares_EveryServerTakenOut_StopsTheJobForItsRepair()
    {
        var run = Run(meanMinutes: 120);
        var runs = SimulatedRuns.Of(run, 1000, spares: Spares(0, 6))!;
        // Every interruption that takes a server out (78% of them) waits the whole six hours.
        Within.Relative(0.78 * runs.MeanInterruptions * 6 * 3600, runs.MeanWaitingForSpares.Seconds, 0.03);
        Assert.Equal(runs.WallTimes.Length, runs.RunsThatWaited);
    }

    [Fact]
    public void EnoughSpares_NeverWait_AndLeaveDalysMean()
    {
        // Little's law: 0.78 x 24 h / 2 h = 9.4 servers away on average; 60 spares are never all in use.
        var run = Run(hours: 50, meanMinutes: 120);
        Within.Relative(9.36, Spares(60, 24).InRepair(run.MeanTimeBetweenInterruptions), 1e-12);
        var runs = SimulatedRuns.Of(run, 2000, spares: Spares(60, 24))!;
        Assert.Equal(Duration.Zero, runs.MeanWaitingForSpares);
        Assert.Equal(0, runs.RunsThatWaited);
        Assert.True(Math.Abs(runs.Mean.Seconds - run.Expected!.Value.Seconds) < 4 * runs.StandardError.Seconds);
    }

    [Fact]
    public void FewerSpares_ThanServersAwayInRepair_WaitLonger()
    {
        var run = Run(hours: 200, meanMinutes: 60);
        int[] counts = [0, 4, 8, 12, 24];
        var waits = counts.Select(count => SimulatedRuns.Of(run, 300, spares: Spares(count, 12))!.MeanWaitingForSpares.Seconds).ToArray();
        Assert.All(waits.Zip(waits.Skip(1)), pair => Assert.True(pair.Second < pair.First, $"{pair.Second} is not below {pair.First}"));
        Assert.True(waits[0] > 0 && waits[^1] < waits[0] / 100);
    }
}
