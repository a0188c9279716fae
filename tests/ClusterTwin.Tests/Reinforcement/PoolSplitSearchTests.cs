using System.Text.Json;
using ClusterTwin.Reinforcement;
using ClusterTwin.Tests.Support;
using static ClusterTwin.Tests.Reinforcement.ReinforcementScenarios;

namespace ClusterTwin.Tests.Reinforcement;

/// <summary><c>rl --splits</c>: every split of separate pools' systems between training and generation.</summary>
public class PoolSplitSearchTests
{
    // Two DGX H100 train and two generate; tensor 1, pipeline 2 trains on any even number of chips.
    private static string FourSystems(string rl = "") => Separate(rl).Replace("count: 1", "count: 2", StringComparison.Ordinal);

    [Fact]
    public void EverySplitOfTheSystems_IsTried_EachAsTheStepAtThoseChips()
    {
        var scenario = Load(FourSystems("  off_policy: 1\n"));
        var splits = PoolSplitSearch.Run(scenario);
        Assert.Equal([(1, 3), (2, 2), (3, 1)], splits.Select(split => (split.TrainerSystems, split.RolloutSystems)));
        Assert.All(splits, split => Assert.True(split.Runs, split.Problem ?? string.Join("; ", split.Step?.Problems ?? [])));

        // The scenario's own split is the scenario's step.
        Assert.Equal(ReinforcementSimulator.Run(scenario).StepTime, splits[1].Step!.StepTime);

        // More systems generating: smaller batches per replica, so no slower a rollout (the longest response bounds it
        // from below). The trainer's data parallelism and its batch's rounding follow its chips.
        Assert.True(splits[0].Step!.GenerationTime <= splits[1].Step!.GenerationTime && splits[1].Step!.GenerationTime <= splits[2].Step!.GenerationTime);
        Assert.All(splits, split => Assert.Equal(0, split.Step!.SequencesPerUpdate % split.Step.Scenario.Trainer.Plan.DataParallelism));
        Assert.Equal([4, 8, 12], splits.Select(split => split.Step!.Scenario.Trainer.Plan.DataParallelism));
        Assert.Equal([24L, 16, 8], splits.Select(split => split.Step!.Scenario.Rollout.Replicas));
    }

    [Fact]
    public void ASplitTheLayoutsDoNotDivide_SaysWhy()
    {
        var scenario = Load(FourSystems().Replace("tensor: 1, pipeline: 2, micro_batch: 1", "tensor: 8, pipeline: 2, micro_batch: 1", StringComparison.Ordinal));
        var splits = PoolSplitSearch.Run(scenario);
        Assert.Contains("the trainer's tensor x pipeline x context = 16 does not divide its 8 chips", splits[0].Problem, StringComparison.Ordinal);
        Assert.False(splits[0].Runs);
        Assert.True(splits[1].Runs);
    }

    [Theory]
    [InlineData("colocated", "rl.placement", "it needs placement: separate")]
    [InlineData("two systems", "rollout.cluster", "needs three systems or more between the pools")]
    [InlineData("two kinds", "rollout.cluster.system", "both pools must be whole systems of one kind")]
    public void PoolsThatCannotBeSplit_AreRefused_AtTheFieldThatSaysWhy(string what, string field, string reason)
    {
        var text = what switch
        {
            "colocated" => Colocated(),
            "two systems" => Separate(),
            _ => FourSystems().Replace("cluster: {system: nvidia-dgx-h100, count: 2, fabric: infiniband-ndr-fat-tree}\n  serving", "cluster: {system: nvidia-hgx-h200, count: 2, fabric: infiniband-ndr-fat-tree}\n  serving", StringComparison.Ordinal),
        };
        var refusal = PoolSplitSearch.Refusal(Load(text));
        Assert.Equal(field, refusal!.Value.Field);
        Assert.Contains(reason, refusal.Value.Reason, StringComparison.Ordinal);
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("rl", folder.Write("rl.yaml", text), "--splits");
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "rl.yaml", field, "--splits ");
        Assert.Contains(reason, outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCommand_TablesTheSplits_NamesTheFastest_AndGivesThemAsJson()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("rl.yaml", FourSystems("  off_policy: 1\n"));
        var table = CliRunner.Run("rl", path, "--splits");
        Assert.True(table.ExitCode == 0, table.Errors);
        Assert.Contains("as given", table.Output, StringComparison.Ordinal);
        Assert.Contains("Fastest: ", table.Output, StringComparison.Ordinal);

        var json = CliRunner.Run("rl", path, "--splits", "--json");
        using var document = JsonDocument.Parse(json.Output);
        var splits = document.RootElement.GetProperty("splits").EnumerateArray().ToArray();
        Assert.Equal(3, splits.Length);
        var fastest = document.RootElement.GetProperty("fastestTrainerSystems").GetInt32();
        var best = splits.Where(split => split.GetProperty("runs").GetBoolean()).MinBy(split => split.GetProperty("stepSeconds").GetDouble());
        Assert.Equal(fastest, best.GetProperty("trainerSystems").GetInt32());

        var two = CliRunner.Run("rl", path, path, "--splits");
        Assert.NotEqual(0, two.ExitCode);
        Assert.Contains("give one scenario file", two.Output + two.Errors, StringComparison.Ordinal);
    }
}
