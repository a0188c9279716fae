using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Sharing;
using ClusterTwin.Sweeps;
using ClusterTwin.Tests.Sharing;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Sweeps;

/// <summary>Sweeps over a shared cluster: each point a run of <c>share</c>, in lines, CSV and shards like the other kinds.</summary>
public class SharedSweepTests
{
    private static readonly string Base = SharedClusters.Text(64, "1, 3, 1", "random", SharedClusters.DataParallelJob(32, "a"), SharedClusters.ExpertJob(32, "b"));

    private static (TemporaryFolder Folder, string Sweep) Write(string vary, string extra = "")
    {
        var folder = new TemporaryFolder();
        folder.Write("base.yaml", Base);
        return (folder, folder.Write("sweep.yaml", $"name: shared sweep\nscenario: base.yaml\n{extra}vary:\n{vary}"));
    }

    [Fact]
    public void EachPoint_IsWhatShareGives_ForItsValues()
    {
        // The 64 systems lie under one spine group: the leaves' uplinks are what the jobs share.
        var (folder, path) = Write("  cluster.oversubscription: [[1, 1, 1], [4, 1, 1]]\n  seed: [1, 2]\n");
        using var _ = folder;
        var sweep = SweepLoader.Load(path);
        Assert.True(sweep.Shared);
        Assert.Equal("share", sweep.Kind);
        var rows = SweepRunner.Run(sweep, Repository.Catalog, SweepShard.Whole, threads: 2).ToArray();
        Assert.Equal(4, rows.Length);
        Assert.All(rows, row => Assert.True(row.Valid, string.Join("; ", row.Problems)));

        // Point 2 is 4:1:1 with seed 1: the base file with its ratios changed.
        var own = SharedFabric.Run(SharedClusters.Load(Base.Replace("[1, 3, 1]", "[4, 1, 1]", StringComparison.Ordinal).Replace("placement: random", "placement: random\nseed: 1", StringComparison.Ordinal)));
        Assert.Equal(own.ChipWeightedSlowdown, rows[2].Shared!.ChipWeightedSlowdown);
        Assert.Equal(own.Jobs.Sum(job => job.Shared.TokensPerSecond), rows[2].Shared!.TokensPerSecond);

        // Non-blocking: no job is slowed, and none is named.
        Assert.All(rows.Take(2), row => Assert.Equal("none", row.Shared!.MostSlowedJob));
        Assert.All(rows.Take(2), row => Assert.Equal(0, row.Shared!.ChipWeightedSlowdown));
        Assert.True(rows[2].Shared!.MostAlignedSlowdown > 0);
    }

    [Fact]
    public void ThePointsLines_CarryTheFigures_AndShardsMergeIntoTheWhole()
    {
        var (folder, path) = Write("  seed: [1, 2, 3]\n");
        using var _ = folder;
        var (lines, csvHeader) = SweepShards.MergedIntoTheWhole(folder.Path, path);
        using (var header = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal("share", header.RootElement.GetProperty("kind").GetString());
        }

        using var point = JsonDocument.Parse(lines[1]);
        Assert.True(point.RootElement.GetProperty("tokensPerSecond").GetDouble() > 0);
        Assert.True(point.RootElement.GetProperty("chipWeightedSlowdown").GetDouble() >= 0);
        Assert.StartsWith("point,seed,valid,chips,chipWeightedSlowdown,mostSlowedJob,mostSlowdown,mostAlignedSlowdown,tokensPerSecond,converged", csvHeader, StringComparison.Ordinal);
    }

    [Fact]
    public void APointTheFileRefuses_CarriesItsProblem_AndTheSweepGoesOn()
    {
        var (folder, path) = Write("  cluster.count: [64, 48]\n");
        using var _ = folder;
        var rows = SweepRunner.Run(SweepLoader.Load(path), Repository.Catalog, SweepShard.Whole, threads: 1).ToArray();
        Assert.True(rows[0].Valid);
        Assert.False(rows[1].Valid);
        Assert.Contains(rows[1].Problems, problem => problem.Contains("the jobs hold 64 systems together; the cluster has 48", StringComparison.Ordinal));
    }

    [Fact]
    public void Search_IsRefusedForASharedCluster()
    {
        var (folder, path) = Write("  seed: [1, 2]\n", "search: true\n");
        using var _ = folder;
        var error = Assert.Throws<InputException>(() => SweepLoader.Load(path));
        Assert.Contains(error.Diagnostics, problem => problem.Field == "search" && problem.Message.Contains("shared cluster", StringComparison.Ordinal));
    }

    [Fact]
    public void TheTable_ShowsEachPoint_AndTheBest()
    {
        var (folder, path) = Write("  cluster.oversubscription: [[1, 1, 1], [4, 1, 1]]\n");
        using var _ = folder;
        var outcome = CliRunner.Run("sweep", path);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("Sharing adds (chip-weighted)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("the least chip-weighted slowdown: point 0", outcome.Output, StringComparison.Ordinal);
    }
}
