using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Sweeps;
using ClusterTwin.Tests.Support;
using static ClusterTwin.Tests.Reinforcement.ReinforcementScenarios;

namespace ClusterTwin.Tests.Sweeps;

/// <summary>Sweeps over an RL post-training scenario: each point a step of <c>rl</c>, in lines, CSV and shards like the other kinds.</summary>
public class ReinforcementSweepTests
{
    private static (TemporaryFolder Folder, string Sweep) Write(string vary, string extra = "")
    {
        var folder = new TemporaryFolder();
        folder.Write("base.yaml", Colocated());
        return (folder, folder.Write("sweep.yaml", $"name: rl sweep\nscenario: base.yaml\n{extra}vary:\n{vary}"));
    }

    [Fact]
    public void EachPoint_IsTheStepRlGives_ForItsValues()
    {
        var (folder, path) = Write("  rl.samples: [4, 8]\n  rl.updates: [1, 2]\n");
        using var _ = folder;
        var sweep = SweepLoader.Load(path);
        Assert.True(sweep.Reinforcement);
        Assert.Equal("rl", sweep.Kind);
        var rows = SweepRunner.Run(sweep, Repository.Catalog, SweepShard.Whole, threads: 2).ToArray();
        Assert.Equal(4, rows.Length);
        Assert.All(rows, row => Assert.True(row.Valid, string.Join("; ", row.Problems)));

        // Point 3 is samples 8, updates 2: the base scenario's own step.
        var own = Run(Colocated());
        Assert.Equal(own.StepTime, rows[3].Reinforcement!.StepTime);
        Assert.Equal(own.TrainedTokensPerSecondPerChip, rows[3].Reinforcement!.TrainedTokensPerSecondPerChip);

        // On-policy and colocated, a point's parts add up to its step, the trainer's offload included.
        Assert.All(rows, row => Assert.Equal(row.Reinforcement!.StepTime.Seconds,
            (row.Reinforcement.GenerationTime + row.Reinforcement.TrainerTime + row.Reinforcement.WeightUpdateTime + row.Reinforcement.OffloadTime).Seconds, 9));
        Assert.True(rows[3].Reinforcement!.OffloadTime.Seconds > 0);

        // Twice the samples: a longer generation.
        Assert.True(rows[2].Reinforcement!.GenerationTime > rows[0].Reinforcement!.GenerationTime);
    }

    [Fact]
    public void ThePointsLines_CarryTheStep_AndShardsMergeIntoTheWhole()
    {
        var (folder, path) = Write("  rl.samples: [4, 8, 12]\n");
        using var _ = folder;
        var (lines, csvHeader) = SweepShards.MergedIntoTheWhole(folder.Path, path);
        using (var header = JsonDocument.Parse(lines[0]))
        {
            Assert.Equal("rl", header.RootElement.GetProperty("kind").GetString());
        }

        using var point = JsonDocument.Parse(lines[1]);
        Assert.True(point.RootElement.GetProperty("stepTimeSeconds").GetDouble() > 0);
        Assert.True(point.RootElement.GetProperty("trainedTokensPerSecondPerChip").GetDouble() > 0);
        Assert.StartsWith("point,rl.samples,valid,chips,stepTimeSeconds,generationSeconds,trainerSeconds", csvHeader, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTable_ShowsEachPointsStep_AndTheBest()
    {
        var (folder, path) = Write("  rl.samples: [4, 8]\n");
        using var _ = folder;
        var outcome = CliRunner.Run("sweep", path);
        Assert.True(outcome.ExitCode == 0, outcome.Errors);
        Assert.Contains("Trained tokens/s per chip", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Of the points that run, the most trained tokens per second per chip: point", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void APointThatCannotRun_SaysWhy_AndASearch_IsRefused()
    {
        var (folder, path) = Write("  rl.offload: [never, always]\n  rollout.serving.memory_utilization: [0.9]\n");
        using var _ = folder;
        var rows = SweepRunner.Run(SweepLoader.Load(path), Repository.Catalog, SweepShard.Whole, threads: 1).ToArray();
        Assert.False(rows[0].Valid);
        Assert.Contains("do not fit beside the rollout engine's 90% of memory", rows[0].Problems[0], StringComparison.Ordinal);
        Assert.True(rows[1].Valid);

        var (searched, searchPath) = Write("  rl.samples: [4]\n", "search: true\n");
        using var __ = searched;
        var error = Assert.Throws<InputException>(() => SweepLoader.Load(searchPath));
        Assert.Contains("an RL point is simulated with its trainer's and rollout's layouts", error.Message, StringComparison.Ordinal);
    }
}
