using ClusterTwin.Reliability;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Reliability;

public class CheckpointRestartTests
{
    private static Duration Minutes(double minutes) => Duration.FromSeconds(minutes * 60);

    private static Duration Hours(double hours) => Duration.FromSeconds(hours * 3600);

    [Theory]
    // Daly (2006), figures 3 to 5: a 5-minute checkpoint, a 10-minute restart; his optimum at three mean times between interruptions.
    [InlineData(24 * 60, 117)]
    [InlineData(6 * 60, 57)]
    [InlineData(15, 9.1)]
    public void TheOptimalInterval_IsDalysOwnWorkedValue(double meanMinutes, double optimumMinutes)
    {
        var interval = CheckpointRestart.OptimalInterval(Minutes(5), Minutes(meanMinutes));
        Within.Relative(optimumMinutes, interval.Seconds / 60, 0.01);
    }

    [Fact]
    public void TheOptimalInterval_LeadsWithYoungsSquareRoot_AndIsTheMeanOnceACheckpointOutlastsTwoMeans()
    {
        // delta << M: the higher-order terms vanish and Young's sqrt(2 delta M) remains.
        var young = Math.Sqrt(2 * 1.0 * 100_000);
        Within.Relative(young, CheckpointRestart.OptimalInterval(Duration.FromSeconds(1), Duration.FromSeconds(100_000)).Seconds, 0.01);
        Assert.Equal(Minutes(10), CheckpointRestart.OptimalInterval(Minutes(30), Minutes(10)));
    }

    [Fact]
    public void TheOptimalInterval_MinimizesTheWallTime()
    {
        var (delta, restart, mean) = (Minutes(5), Minutes(10), Hours(6));
        var optimum = CheckpointRestart.OptimalInterval(delta, mean);
        var best = CheckpointRestart.Slowdown(optimum, delta, restart, mean)!.Value;
        foreach (var factor in new[] { 0.5, 0.8, 1.25, 2 })
        {
            Assert.True(CheckpointRestart.Slowdown(optimum * factor, delta, restart, mean) > best, $"{factor} x the optimum is no slower");
        }
    }

    [Fact]
    public void WithoutInterruptions_OnlyTheCheckpointsCost()
    {
        var slowdown = CheckpointRestart.Slowdown(Minutes(60), Minutes(1), Minutes(10), Duration.FromSeconds(double.PositiveInfinity));
        Assert.Equal(1 + (1.0 / 60), slowdown!.Value, 12);
        // Very rare interruptions tend to the same.
        Within.Relative(1 + (1.0 / 60), CheckpointRestart.Slowdown(Minutes(60), Minutes(1), Minutes(10), Hours(1e7))!.Value, 1e-4);
    }

    [Fact]
    public void TheWallTime_GrowsWithTheRestart_AndTheInterruptionRate()
    {
        var (interval, delta) = (Minutes(30), Duration.FromSeconds(10));
        var baseline = CheckpointRestart.Slowdown(interval, delta, Minutes(10), Hours(3))!.Value;
        Assert.True(CheckpointRestart.Slowdown(interval, delta, Minutes(20), Hours(3)) > baseline);
        Assert.True(CheckpointRestart.Slowdown(interval, delta, Minutes(10), Hours(1)) > baseline);
        // At a three-hour mean and a 10-minute restart, each interruption costs the restart and half an interval: ~14%.
        Within.Relative(1 + ((10 + 15) / 180.0), baseline, 0.03);
    }

    [Fact]
    public void PastTheReliabilityWall_TheRunNeverFinishes_InsteadOfAnInfinity()
    {
        // An interruption every minute against an hour's restart: e^60 and beyond.
        Assert.Null(CheckpointRestart.Slowdown(Minutes(1), Duration.FromSeconds(1), Hours(1), Minutes(1)));
        Assert.Null(CheckpointRestart.Slowdown(Minutes(1), Duration.FromSeconds(1), Hours(1000), Duration.FromSeconds(1)));
    }
}
