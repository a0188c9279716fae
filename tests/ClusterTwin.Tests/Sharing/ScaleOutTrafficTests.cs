using ClusterTwin.Engines.Analytical;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sharing;

public sealed class ScaleOutTrafficTests
{
    [Fact]
    public void OneSystem_SendsNothingOverTheFabric()
    {
        var step = AnalyticalEngine.SimulateStep(SharedClusters.Load(SharedClusters.Text(2, string.Empty, "packed", SharedClusters.DataParallelJob(1))).Jobs[0].Scenario);
        Assert.True(step.ScaleOutTrafficPerChip.IsEmpty);
    }

    [Fact]
    public void DataParallelOnly_SendsTheRingsShareAcrossSystems()
    {
        // 32 ranks, 8 in each of 4 systems: a hierarchical ring sends (R - 1) / (n - 1) = 3/31 of its volume across systems,
        // all of it under one leaf (4 DGX H100 per leaf).
        var step = AnalyticalEngine.SimulateStep(SharedClusters.Load(SharedClusters.Text(4, string.Empty, "packed", SharedClusters.DataParallelJob(4))).Jobs[0].Scenario);
        var perChip = step.LinkTrafficPerStep / step.Chips;
        Within.Relative(perChip.Count * 3 / 31, step.ScaleOutTrafficPerChip[0].Count, 1e-9);
        Assert.All(step.ScaleOutTrafficPerChip.Skip(1), bytes => Assert.Equal(0, bytes.Count));
    }

    [Fact]
    public void AcrossLeaves_TheTrafficClimbsToTheSpine()
    {
        var step = AnalyticalEngine.SimulateStep(SharedClusters.Load(SharedClusters.Text(16, string.Empty, "packed", SharedClusters.DataParallelJob(16))).Jobs[0].Scenario);
        Assert.Equal(0, step.ScaleOutTrafficPerChip[0].Count);
        Assert.True(step.ScaleOutTrafficPerChip[1].Count > 0);
    }
}
