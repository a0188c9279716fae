using ClusterTwin.Catalog;
using ClusterTwin.Claims;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Economics;

public class WorkloadRatioTests
{
    /// <summary>Llama 3 8B on <paramref name="cluster"/> at tensor 8: 144 sequences a step divide 128 and 144 chips' replicas alike.</summary>
    private static TrainingStepResult Simulate(string cluster, int chips)
    {
        using var folder = new TemporaryFolder();
        return AnalyticalEngine.Simulate(ScenarioLoader.Load(folder.Write("s.yaml", $$"""
            cluster: {{cluster}}
            model: llama3-8b
            training: {sequence_length: 4096, global_batch: 144}
            plan: {tensor: 8, data: {{chips / 8}}}
            """), Repository.Catalog));
    }

    private static readonly Lazy<TrainingStepResult> Trainium2 = new(() => Simulate("{system: aws-trn2-ultraserver, count: 2, fabric: aws-efa-ultracluster}", 128));

    private static readonly Lazy<TrainingStepResult> Trainium3 = new(() => Simulate("{system: aws-trn3-gen2-ultraserver, count: 1}", 144));

    private static readonly Lazy<TrainingStepResult> H100 = new(() => Simulate("{system: nvidia-dgx-h100, count: 18, fabric: infiniband-ndr-fat-tree}", 144));

    [Fact]
    public void TwoChipsOnTheSameFittedRuns_CancelTheFitsOwnSpread_AndAddTheRestInQuadrature()
    {
        var (subject, baseline) = (Trainium3.Value, Trainium2.Value);
        var (mine, theirs) = (subject.BandParts!, baseline.BandParts!);
        Assert.Equal("aws-neuroncore-v2", mine.LevelsFrom);
        Assert.Equal(mine.LevelsFrom, theirs.LevelsFrom);
        Assert.NotEqual(mine.Family, theirs.Family);
        var ratio = WorkloadRatio.SpeedUp(subject, baseline)!.Value;

        // Each side's own part is its widened band less its source's fit, in quadrature.
        var own = (Subject: mine.OwnResiduals, Baseline: theirs.OwnResiduals);
        Within.Relative(Math.Sqrt((mine.ResidualHigh * mine.ResidualHigh) - (mine.FittedHigh * mine.FittedHigh)), own.Subject.High, 1e-12);
        var up = Math.Sqrt((own.Baseline.High * own.Baseline.High) + (own.Subject.Low * own.Subject.Low));
        var down = Math.Sqrt((own.Baseline.Low * own.Baseline.Low) + (own.Subject.High * own.Subject.High));
        Within.Relative(up + Math.Log(theirs.Slowest / mine.Fastest), Math.Log(ratio.High / ratio.Value), 1e-9);
        Within.Relative(down + Math.Log(mine.Slowest / theirs.Fastest), Math.Log(ratio.Value / ratio.Low), 1e-9);

        // Narrower than two independent bands, and than pairing their opposite ends.
        Assert.True(up < Math.Sqrt((theirs.ResidualHigh * theirs.ResidualHigh) + (mine.ResidualLow * mine.ResidualLow)));
        Assert.True(ratio.High < baseline.StepTimeHigh / subject.StepTimeLow);
        Assert.True(ratio.Low > baseline.StepTimeLow / subject.StepTimeHigh);
    }

    [Fact]
    public void TwoSystemsOfOneChipFamily_ShareTheirWholeCalibration()
    {
        var subject = Trainium3.Value;
        var baseline = Simulate("{system: aws-trn3-gen1-ultraserver, count: 2, fabric: aws-efa-ultracluster}", 128);
        var (mine, theirs) = (subject.BandParts!, baseline.BandParts!);
        Assert.Equal(mine.Family, theirs.Family);
        var ratio = WorkloadRatio.SpeedUp(subject, baseline)!.Value;
        Within.Relative(theirs.Slowest / mine.Fastest, ratio.High / ratio.Value, 1e-9);
        Within.Relative(mine.Slowest / theirs.Fastest, ratio.Value / ratio.Low, 1e-9);
    }

    [Fact]
    public void TwoIndependentCalibrations_AddInQuadrature()
    {
        var (subject, baseline) = (Trainium3.Value, H100.Value);
        var (mine, theirs) = (subject.BandParts!, baseline.BandParts!);
        Assert.NotEqual(mine.LevelsFrom, theirs.LevelsFrom);
        var ratio = WorkloadRatio.SpeedUp(subject, baseline)!.Value;
        var up = Math.Sqrt((theirs.ResidualHigh * theirs.ResidualHigh) + (mine.ResidualLow * mine.ResidualLow));
        Within.Relative(up + Math.Log(theirs.Slowest / mine.Fastest), Math.Log(ratio.High / ratio.Value), 1e-9);
        Assert.True(ratio.Low <= ratio.Value && ratio.Value <= ratio.High);
        Assert.True(Math.Log(ratio.High / ratio.Value) > Math.Max(theirs.ResidualHigh, -mine.ResidualLow), "two errors are wider than either");
    }

    [Fact]
    public void TokensPerDollar_IsThePriceRatioTimesTheSpeedUp_WithBothRanges()
    {
        var (subject, baseline) = (Trainium3.Value, Trainium2.Value);
        var speed = WorkloadRatio.SpeedUp(subject, baseline)!.Value;
        var cost = WorkloadRatio.CostGain(subject, baseline)!.Value;
        var (mine, theirs) = (subject.Cost!.Rental!, baseline.Cost!.Rental!);
        var rented = (Subject: subject.Cost.PerStep / (subject.Cost.PerChipHour * subject.StepTime), Baseline: baseline.Cost.PerStep / (baseline.Cost.PerChipHour * baseline.StepTime));
        Within.Relative(theirs.PerChip / mine.PerChip * speed.Value * rented.Baseline / rented.Subject, cost.Value, 1e-9);
        Within.Relative(speed.Low / speed.Value * (theirs.Price.Lowest / mine.Price.Highest) / (theirs.Price.Value / mine.Price.Value), cost.Low / cost.Value, 1e-9);
    }
}
