using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sharing;

public sealed class ShareCommandTests
{
    private static CliRunner.Outcome Share(string text, params string[] options)
    {
        using var folder = new TemporaryFolder();
        return CliRunner.Run(["share", folder.Write("shared.yaml", text), .. options]);
    }

    private static string TwoJobs(string oversubscription = "1, 3, 1", string placement = "spread") =>
        SharedClusters.Text(64, oversubscription, placement, SharedClusters.DataParallelJob(32, "a"), SharedClusters.ExpertJob(32, "b"));

    [Fact]
    public void Report_NamesEachJobAndWhatSharingAdds()
    {
        var outcome = Share(TwoJobs());
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("sharing adds", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Sharing the network adds", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("spine", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Json_GivesEachJobsStepsAndTheTiers()
    {
        var outcome = Share(TwoJobs(), "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var cluster = document.RootElement.GetProperty("clusters")[0];
        Assert.Equal("spread", cluster.GetProperty("placement").GetString());
        Assert.Equal(2, cluster.GetProperty("tiers").GetArrayLength());
        foreach (var job in cluster.GetProperty("jobs").EnumerateArray())
        {
            var (placed, shared, aligned) = (job.GetProperty("inPlaceSeconds").GetDouble(), job.GetProperty("sharedSeconds").GetDouble(), job.GetProperty("alignedSeconds").GetDouble());
            Assert.True(placed <= shared && shared <= aligned, $"{placed} {shared} {aligned}");
            Assert.True(job.GetProperty("sharedLowSeconds").GetDouble() < shared);
        }
    }

    [Theory]
    [InlineData("1, 3", "cluster.oversubscription", "expected a list of 3 ratios")]
    [InlineData("1, 0.5, 1", "cluster.oversubscription[1]", "out of range")]
    [InlineData("1, lots, 1", "cluster.oversubscription[1]", "is not a number")]
    public void BadOversubscription_IsReportedAtItsField(string ratios, string field, string reason) =>
        Reported.AtField(Share(TwoJobs(ratios)), "shared.yaml", field, reason);

    [Fact]
    public void TooManySystems_AreReportedAtTheJobs() =>
        Reported.AtField(Share(SharedClusters.Text(40, string.Empty, "packed", SharedClusters.DataParallelJob(32, "a"), SharedClusters.DataParallelJob(16, "b"))), "shared.yaml", "jobs", "the jobs hold 48 systems together; the cluster has 40");

    [Fact]
    public void AJobsBadField_IsReportedUnderItsPlaceInTheList() =>
        Reported.AtField(Share(TwoJobs().Replace("model: qwen3-30b-a3b", "model: qwen3-31b", StringComparison.Ordinal)), "shared.yaml", "jobs[1].model", "unknown model");

    [Fact]
    public void ASeedWithoutRandomPlacement_ChangesNothing()
    {
        var (without, with) = (Share(TwoJobs(), "--json"), Share(TwoJobs().Replace("placement: spread", "placement: spread\nseed: 4", StringComparison.Ordinal), "--json"));
        Assert.Equal(0, with.ExitCode);
        Assert.Equal(without.Output, with.Output);
    }

    [Fact]
    public void AMissingFabric_NamesTheFabrics() =>
        Reported.AtField(Share(TwoJobs().Replace("  fabric: infiniband-ndr-fat-tree\n", string.Empty, StringComparison.Ordinal)), "shared.yaml", "cluster.fabric", "infiniband-ndr-fat-tree");

    [Fact]
    public void AnUnknownPlacement_NamesTheChoices() =>
        Reported.AtField(Share(TwoJobs(placement: "scattered")), "shared.yaml", "placement", "packed, spread, random");

    [Fact]
    public void AJobWithAClusterOfItsOwn_IsRefused() =>
        Reported.AtField(Share(TwoJobs().Replace("    systems: 32\n    model: llama3-8b", "    systems: 32\n    cluster: {system: nvidia-dgx-h100}\n    model: llama3-8b", StringComparison.Ordinal)), "shared.yaml", "jobs[0].cluster", "unknown field");

    [Fact]
    public void AClusterBeyondItsFabric_IsRefusedAtItsCount() =>
        Reported.AtField(Share(SharedClusters.Text(8_200, string.Empty, "packed", SharedClusters.DataParallelJob(4))), "shared.yaml", "cluster.count", "reaches at most 65,536 chips");

    [Fact]
    public void AClusterInChips_IsRefused() =>
        Reported.AtField(Share(TwoJobs().Replace("  count: 64\n", "  chips: 512\n", StringComparison.Ordinal)), "shared.yaml", "cluster.chips", "deals whole systems");

    [Fact]
    public void ARatioAboveTheTopTier_IsRefused() =>
        Reported.AtField(Share(TwoJobs("1, 3, 2")), "shared.yaml", "cluster.oversubscription[2]", "has no uplinks above it");

    [Fact]
    public void AJobGivenTwiceByAnAlias_IsReadTwiceAlike()
    {
        var text = SharedClusters.Text(16, string.Empty, "packed", SharedClusters.DataParallelJob(4).Replace("  - name:", "  - &twin\n    name:", StringComparison.Ordinal)) + "  - *twin\n";
        var outcome = Share(text, "--json");
        Assert.True(outcome.ExitCode == 0, outcome.Errors);
        Assert.Equal(2, System.Text.Json.JsonDocument.Parse(outcome.Output).RootElement.GetProperty("clusters")[0].GetProperty("jobs").GetArrayLength());
    }

    [Fact]
    public void NoJobs_IsRefused() =>
        Reported.AtField(Share("cluster: {system: nvidia-dgx-h100, count: 4, fabric: infiniband-ndr-fat-tree}\njobs: []\n"), "shared.yaml", "jobs", "expected a list of jobs");

    [Fact]
    public void SimulateGivenASharedCluster_SaysWhichCommandReadsIt()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("shared.yaml", TwoJobs()));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("is a shared cluster (it has a jobs block): run clustertwin share", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AJobOverMemory_IsMarked()
    {
        // Llama 3 8B on data parallelism alone under ZeRO-1 needs some 87 GiB a chip on an 80 GB H100.
        var text = SharedClusters.Text(8, string.Empty, "packed", SharedClusters.DataParallelJob(4).Replace("zero: 2", "zero: 1", StringComparison.Ordinal));
        var outcome = Share(text);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("llama (over memory)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Over memory: llama", outcome.Output, StringComparison.Ordinal);
        Assert.False(System.Text.Json.JsonDocument.Parse(Share(text, "--json").Output).RootElement.GetProperty("clusters")[0].GetProperty("jobs")[0].GetProperty("fits").GetBoolean());
    }

    [Fact]
    public void AJobThatCannotRun_ExitsOne()
    {
        var outcome = Share(SharedClusters.Text(8, string.Empty, "packed", SharedClusters.DataParallelJob(4, "a").Replace("global_batch: 64", "global_batch: 60", StringComparison.Ordinal)));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("cannot run", outcome.Output, StringComparison.Ordinal);
    }
}
