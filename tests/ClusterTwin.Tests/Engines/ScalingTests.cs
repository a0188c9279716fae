using ClusterTwin.Engines.Analytical;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines;

/// <summary>The cost of a step does not depend on the number of chips: groups are described, never enumerated.</summary>
public class ScalingTests
{
    [Fact]
    public void MillionChipStep_IsFiniteAndFits()
    {
        var result = AnalyticalEngine.Simulate(Repository.Example("llama3-405b-trainium3-1m"));
        Assert.Equal(999_936, result.Chips);
        Assert.True(result.Valid);
        Assert.True(result.Fits);
        Assert.True(double.IsFinite(result.StepTime.Seconds) && result.StepTime.Seconds > 0);
        Assert.True(double.IsFinite(result.TokensPerSecond) && result.ModelFlopsUtilization is > 0 and < 1);
    }

    [Fact]
    public void Allocations_DoNotGrowWithTheChipCount()
    {
        var million = Repository.Example("llama3-405b-trainium3-1m");
        var thousand = WithSystems(million, 7);
        AnalyticalEngine.Simulate(thousand);
        AnalyticalEngine.Simulate(million);

        var small = AllocatedBy(() => AnalyticalEngine.Simulate(thousand));
        var large = AllocatedBy(() => AnalyticalEngine.Simulate(million));
        Assert.True(large <= small * 1.05 + 1024, $"1K chips allocate {small} bytes, 1M chips {large}");
    }

    private static Scenario WithSystems(Scenario scenario, int systems) =>
        scenario with
        {
            Cluster = scenario.Cluster with { SystemCount = systems },
            Plan = scenario.Plan with { DataParallelism = systems },
            Job = scenario.Job with { GlobalBatchSize = systems * 18 },
        };

    private static long AllocatedBy(Action action)
    {
        var before = GC.GetAllocatedBytesForCurrentThread();
        action();
        return GC.GetAllocatedBytesForCurrentThread() - before;
    }
}
