using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Validation;

/// <summary>
/// The eight runs of Korthikanti et al. 2022, Table 5 (GPT 22B to 1T on A100, full and selective recompute).
/// They are held out of the A100 calibration, which is fitted on MosaicML's runs only: this is an error on unseen data.
/// </summary>
public class KorthikantiTable5Tests
{
    private static readonly IReadOnlyList<ValidationCase> Cases =
        ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Training;

    public static TheoryData<string> Ids() => [.. Cases.Where(item => item.SourceKey == "korthikanti-2022").Select(item => item.Id)];

    [Theory]
    [MemberData(nameof(Ids))]
    public void StepTime_IsWithinTenPercent(string id)
    {
        var item = Cases.Single(candidate => candidate.Id == id);
        var outcome = Assert.Single(ValidationRun.Run([item]));
        Assert.True(Math.Abs(outcome.ErrorPercent) <= 10, $"{id}: predicted {outcome.Predicted:0.000} s, measured {outcome.Measured:0.000} s ({outcome.ErrorPercent:+0.0;-0.0}%)");
    }

    [Fact]
    public void AllEightRuns_ArePresent() => Assert.Equal(8, Ids().Count);

    [Fact]
    public void TheA100Calibration_HoldsTheseRunsOut()
    {
        var fit = Repository.Catalog.Efficiencies["nvidia-ampere"].Fit;
        Assert.Contains("korthikanti-2022", fit.HeldOut);
        Assert.DoesNotContain("korthikanti-2022", fit.FittedOn);
        Assert.True(fit.Cases > 0);
    }
}
