using ClusterTwin.Engines.Analytical;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

public class UncertaintyBandTests
{
    [Fact]
    public void Band_OfACalibratedFamily_ComesFromItsResidualPercentiles()
    {
        var scenario = ScenarioOnA100();
        var result = AnalyticalEngine.Simulate(scenario);
        var fit = scenario.Efficiency.Fit;
        Within.Relative(result.StepTime.Seconds * Math.Exp(fit.ResidualLow), result.StepTimeLow.Seconds, 1e-12);
        Within.Relative(result.StepTime.Seconds * Math.Exp(fit.ResidualHigh), result.StepTimeHigh.Seconds, 1e-12);
    }

    [Fact]
    public void Band_OfAChipWithoutMeasuredRuns_IsWiderThanTheCalibratedOne()
    {
        var onA100 = AnalyticalEngine.Simulate(ScenarioOnA100());
        var onTrainium3 = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        Assert.True(onTrainium3.StepTimeHigh / onTrainium3.StepTimeLow > onA100.StepTimeHigh / onA100.StepTimeLow);
        Assert.Contains(onTrainium3.BandSources, source => source.Contains("no measured runs of its own", StringComparison.Ordinal));
    }

    [Fact]
    public void Band_CoversTheConflictingTrainium3LinkFigures()
    {
        var result = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        Assert.Contains(result.BandSources, source => source.StartsWith("scale-up bandwidth 2.56 TB/s instead of 2 TiB/s", StringComparison.Ordinal));
        Assert.Contains(result.BandSources, source => source.Contains("read as per direction", StringComparison.Ordinal));
        Assert.True(result.StepTimeLow < result.StepTime && result.StepTime < result.StepTimeHigh);
    }

    [Fact]
    public void SimulateStep_LeavesTheBandOut_ButAgreesOnTheStep()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var full = AnalyticalEngine.Simulate(scenario);
        var step = AnalyticalEngine.SimulateStep(scenario);
        Assert.Equal(full.StepTime, step.StepTime);
        Assert.Empty(step.BandSources);
    }

    private static ClusterTwin.Scenarios.Scenario ScenarioOnA100()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var a100 = Repository.Catalog.Systems["nvidia-dgx-a100"];
        return scenario with
        {
            Cluster = scenario.Cluster with { System = a100 },
            Efficiency = Repository.Catalog.EfficiencyFor(a100.Chip),
        };
    }
}
