using ClusterTwin.Engines;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Reliability;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Engines.EventLevel;

public class StragglerDrawsTests
{
    private static PipelineStages Stages(int pipeline = 1, int microBatches = 8, double after = 0) =>
        new([.. Enumerable.Repeat(new RankWork(Duration.FromSeconds(1), Duration.FromSeconds(2)), pipeline)], 1, microBatches, Duration.Zero, false, Duration.FromSeconds(after), 1);

    [Fact]
    public void WithoutSpreadOrTransients_EveryStepIsTheEvenOne()
    {
        var draws = StragglerDraws.Of(Stages(4), 4096, new StragglerSettings(0, null, 0, 1, 50));
        Assert.All(draws.Steps, step => Assert.Equal(draws.EvenStep, step));
        Assert.Equal(0, draws.Slowdown, 12);
        Assert.Equal(0, draws.StepsStruck);
        Assert.Equal((8 + 3) * 3.0, draws.EvenStep.Seconds, 9);
    }

    [Theory]
    [InlineData(1_000, 1e-4)]
    [InlineData(1_000_000, 1e-7)]
    [InlineData(100, 0.01)]
    public void ATransient_StrikesAStepWithTheChanceThatOneOfItsChipsIsStruck_AndSlowsItByItsFactor(long chips, double share)
    {
        // One rank: every pass of the step runs at the rank's factor, so a struck step takes 1.3 times the even one.
        var draws = StragglerDraws.Of(Stages(), chips, new StragglerSettings(0, null, share, 1.3, 20_000, Seed: 3));
        var expected = 1 - Math.Pow(1 - share, chips);
        var standardError = Math.Sqrt(expected * (1 - expected) / 20_000);
        Assert.InRange(draws.StepsStruck, expected - (4 * standardError), expected + (4 * standardError));
        Assert.Equal(draws.StepsStruck * 0.3, draws.Slowdown, 9);
        Assert.Equal(draws.EvenStep.Seconds * 1.3, draws.Steps[^1].Seconds, 9);
    }

    [Theory]
    [InlineData(1, 0.0)]
    [InlineData(2, 0.5641896)]
    [InlineData(10, 1.5387527)]
    [InlineData(1000, 3.2414)]
    public void TheSlowestChip_IsTheLargestOfTheRanksChips_AsOrderStatisticsGiveIt(long chips, double expectedStandardDeviations)
    {
        // The mean of the largest of n standard normal draws: 0, 1/sqrt(pi), 1.5388 (n = 10), 3.2414 (n = 1000).
        var draws = StragglerDraws.Of(Stages(), chips, new StragglerSettings(0.02, null, 0, 1, 20_000, Seed: 5));
        Assert.Equal(0.02 * expectedStandardDeviations, draws.MeanSlowestChip, 0.0008);
        // One rank: the step is the even one at the slowest chip's pace.
        Assert.Equal(draws.MeanSlowestChip, draws.Slowdown, 9);
    }

    [Fact]
    public void ReplacingTheChipsBeyondACut_BoundsTheSlowest_AndAMillionChipsReachIt()
    {
        var uncut = StragglerDraws.Of(Stages(), 1_000_000, new StragglerSettings(0.02, null, 0, 1, 2000));
        var cut = StragglerDraws.Of(Stages(), 1_000_000, new StragglerSettings(0.02, 0.05, 0, 1, 2000));
        // The largest of a million normal draws is about 4.9 standard deviations; replaced beyond 2.5, it sits at the cut.
        Assert.InRange(uncut.MeanSlowestChip, 0.02 * 4.6, 0.02 * 5.2);
        Assert.InRange(cut.MeanSlowestChip, 0.0499, 0.05 + 1e-9);
        Assert.True(cut.Steps[^1].Seconds <= cut.EvenStep.Seconds * 1.05 + 1e-9);
        // 2.5 standard deviations out: 0.62% of the chips are replaced.
        Assert.Equal(0.00621, cut.ReplacedShare, 0.00001);
        Assert.Equal(0, uncut.ReplacedShare);
    }

    [Fact]
    public void MoreChips_SlowTheStepMore_ButNeverMoreThanTheSlowestChip()
    {
        var settings = new StragglerSettings(0.02, null, 0, 1, 500);
        var small = StragglerDraws.Of(Stages(8, 32, after: 1), 1024, settings);
        var large = StragglerDraws.Of(Stages(8, 32, after: 1), 1_048_576, settings);
        Assert.True(large.Slowdown > small.Slowdown + 0.02, $"{large.Slowdown} against {small.Slowdown}");
        Assert.Equal(small.Steps.Length, large.Steps.Length);
        // No rank runs slower than the slowest chip, and what follows the pipeline is not slowed: each step's slowdown,
        // and so the mean's, stays below the slowest chip's.
        Assert.True(large.Slowdown < large.MeanSlowestChip, $"{large.Slowdown} against {large.MeanSlowestChip}");
        Assert.True(large.StandardError.Seconds > 0 && large.StandardError.Seconds < 0.01 * large.Mean.Seconds);
    }

    [Fact]
    public void TheSameSeed_GivesTheSameDraws_AndAnotherSeedOthers()
    {
        var settings = new StragglerSettings(0.02, null, 1e-6, 1.2, 200, Seed: 11);
        var first = StragglerDraws.Of(Stages(4, 16), 100_000, settings);
        var again = StragglerDraws.Of(Stages(4, 16), 100_000, settings);
        var other = StragglerDraws.Of(Stages(4, 16), 100_000, settings with { Seed = 12 });
        Assert.Equal(first.Steps.AsEnumerable(), again.Steps.AsEnumerable());
        Assert.NotEqual(first.Steps.AsEnumerable(), other.Steps.AsEnumerable());
    }

    [Fact]
    public void DrawsBeyondThePassBudget_AreCutToFit()
    {
        var stages = Stages(16, 4096);
        var draws = StragglerDraws.Of(stages, 65536, new StragglerSettings(0.01, null, 0, 1, StragglerSettings.MostDraws));
        Assert.Equal(StragglerDraws.PassBudget / PipelineTimeline.Passes(stages), draws.Steps.Length);
    }
}
