using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Planning;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Planning;

public class SizeSearchTests
{
    /// <summary>Llama 3 8B on 1T tokens: about a hundred H100 in ten days, so each layout search is small.</summary>
    private static string Search(string deadline = "10 d", string search = "") => $$"""
        name: Llama 3 8B on 1T tokens
        model: llama3-8b
        training:
          sequence_length: 8192
          global_batch: 512
          tokens: 1T
          precision: bf16
        deadline: {{deadline}}
        search:
          max_chips: 4096
        {{search}}
          clusters:
            - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}
        """;

    private static TrainingSearchScenario Load(TemporaryFolder folder, string text) => ScenarioLoader.LoadTrainingSearch(folder.Write("search.yaml", text), Repository.Catalog);

    private static SizeOutcome Run(TrainingSearchScenario scenario) => SizeSearch.Run(scenario.Candidates.Single(), scenario.Settings);

    [Fact]
    public void TheLadder_DoublesInTwoSteps_EachAtMostHalfAgainTheOneBefore()
    {
        Assert.Equal([1, 2, 3, 4, 6, 8, 12, 16], ClusterSizes.Ladder(20));
        Assert.Equal([1], ClusterSizes.Ladder(1));
        var ladder = ClusterSizes.Ladder(1_000_000).ToArray();
        Assert.All(ladder.Skip(1).Zip(ladder.Skip(2)), pair => Assert.InRange(pair.Second / (double)pair.First, 1.33, 1.5));
    }

    [Fact]
    public void ByChips_TheChosenSizeMeetsTheDeadline_AndTheSizeBeforeItDoesNot()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search(search: "  objective: chips"));
        var outcome = Run(scenario);
        var chosen = outcome.Chosen!;
        Assert.True(chosen.TimeToTrain!.Value <= scenario.Settings.Deadline);
        Assert.Same(chosen, outcome.Tried[^1]);    // the walk stops at the first size in time
        Assert.True(outcome.Tried.Length >= 2, "the smallest size the peak allows should miss a deadline this tight");
        Assert.True(outcome.Tried[^2].TimeToTrain!.Value > scenario.Settings.Deadline);
        Assert.All(outcome.Tried, size => Assert.Equal(size.Chips, size.Systems * 8L));
    }

    [Fact]
    public void SizesBelowThePeakBound_WouldMissTheDeadline()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search(search: "  objective: chips"));
        var outcome = Run(scenario);
        Assert.True(outcome.BelowPeakBound > 0);
        Assert.True(outcome.Tried[0].Chips >= outcome.LeastChipsAtPeak);

        // The largest skipped size, searched anyway, is slower than the deadline: the bound is a true lower bound.
        var skipped = ClusterSizes.Ladder(512).Take(outcome.BelowPeakBound).Last();
        var candidate = scenario.Candidates.Single();
        var search = PlanSearch.Run(candidate.Template with { Cluster = candidate.Template.Cluster with { SystemCount = skipped } }, candidate.Pins, top: 1);
        Assert.True(search.Plans.IsEmpty || search.Plans[0].Result.TimeToTrain!.Value > scenario.Settings.Deadline);
    }

    [Fact]
    public void ByCost_TheChosenSizeIsTheCheapestInTime_ALargerOneOnlyWhereItSavesTwoPercent()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search());
        var outcome = Run(scenario);
        var meeting = outcome.Tried.Where(size => size.Meets(scenario.Settings.Deadline, DeadlineBasis.Prediction)).ToArray();
        Assert.Equal(SizeSearchSettings.SizesPastDeadline + 1, meeting.Length);
        var cheapest = meeting.Min(size => size.RunCost!.Value.Dollars);
        Assert.InRange(outcome.Chosen!.RunCost!.Value.Dollars, cheapest, cheapest / (1 - SizeSearch.Gain));
        Assert.All(meeting.Where(size => size.Chips < outcome.Chosen.Chips), smaller =>
            Assert.True(outcome.Chosen.RunCost.Value.Dollars < smaller.RunCost!.Value.Dollars * (1 - SizeSearch.Gain), "a larger cluster is chosen only where it saves 2%"));

        // The run's cost is its chip-hours at the system's price, the chips held for the whole wall time, interruptions included.
        var result = outcome.Chosen.Best!.Result;
        var held = outcome.Chosen.Run!.Expected!.Value / outcome.Chosen.Run.FaultFree;
        Assert.True(held > 1);
        Assert.InRange(outcome.Chosen.RunCost.Value.Dollars / (result.ChipHours!.Value * 3600 * result.Cost!.PerChipHour.DollarsPerSecond * held), 1 - 1e-9, 1 + 1e-9);
    }

    [Fact]
    public void TheDeadline_IsHeldToTheRunWithItsInterruptions()
    {
        using var folder = new TemporaryFolder();
        var outcome = Run(Load(folder, Search(search: "  objective: chips")));
        var chosen = outcome.Chosen!;
        Assert.Equal(chosen.Run!.Expected, chosen.TimeToTrain);
        Assert.True(chosen.TimeToTrain > chosen.FaultFreeTimeToTrain);
        Assert.All(outcome.Tried.Where(size => size.Chips < chosen.Chips && size.Best is not null), smaller => Assert.True(smaller.TimeToTrain > Duration.FromSeconds(10 * 86400)));
    }

    [Fact]
    public void ClustersInterruptedFasterThanTheyRestart_NeverFinish_AndTheSearchSaysSo()
    {
        using var folder = new TemporaryFolder();
        var text = Search() + "\nresilience: {chip_time_between_interruptions: 2 h, restart: 1 d}\n";
        var outcome = Run(Load(folder, text));
        Assert.Null(outcome.Chosen);
        Assert.Contains(outcome.Tried, size => size.Best is not null && size.TimeToTrain is null);
        Assert.Contains("would finish", outcome.Why, StringComparison.Ordinal);
        Assert.Contains("sooner than the run recovers (24 h to restart", outcome.Why, StringComparison.Ordinal);
        var report = CliRunner.Run("train-search", folder.Write("never.yaml", text), "--json");
        Assert.Equal(1, report.ExitCode);
        Assert.DoesNotContain("Infinity", report.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("NaN", report.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void AtTheBandsSlowEnd_TheChosenSizeIsNoSmaller_AndItsP90TimeMeetsTheDeadline()
    {
        using var folder = new TemporaryFolder();
        var central = Run(Load(folder, Search(search: "  objective: chips")));
        var slow = Load(folder, Search(search: "  objective: chips\n  deadline_at: p90"));
        var outcome = Run(slow);
        Assert.Equal(DeadlineBasis.SlowEnd, slow.Settings.DeadlineAt);
        Assert.True(outcome.Chosen!.TimeToTrainHigh!.Value <= slow.Settings.Deadline);
        Assert.True(outcome.Chosen.Chips >= central.Chosen!.Chips);
    }

    [Fact]
    public void ADeadlineNoClusterCanMeet_SaysWhy()
    {
        using var folder = new TemporaryFolder();
        var outcome = Run(Load(folder, Search(deadline: "1 h")));
        Assert.Null(outcome.Chosen);
        Assert.Empty(outcome.Tried);
        Assert.Contains("even at the chip's peak rate the run needs", outcome.Why, StringComparison.Ordinal);
        Assert.Contains("more than the 4,096 this search may use", outcome.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void PastTheBatchsReach_TheWalkStops_AndSaysMoreChipsStoppedHelping()
    {
        // Sixteen sequences a step, tensor 8 and nothing else but data parallelism: past 128 chips no layout divides,
        // and the deadline is out of reach.
        using var folder = new TemporaryFolder();
        var text = Search(deadline: "5 d").Replace("global_batch: 512", "global_batch: 16", StringComparison.Ordinal).Replace("max_chips: 4096", "max_chips: 100000", StringComparison.Ordinal)
            + "\nplan: {tensor: 8, context: 1, pipeline: 1}\n";
        var outcome = Run(Load(folder, text));
        Assert.Null(outcome.Chosen);
        Assert.Equal(128, outcome.Tried.Where(size => size.Best is not null).Max(size => size.Chips));
        Assert.Equal(SizeSearch.StalledSizes, outcome.Tried.Count(size => size.Chips > 128));
        Assert.Contains("the search stopped at", outcome.Why, StringComparison.Ordinal);
        Assert.Contains("the fastest, 128 chips", outcome.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void SizesWhosePinsDoNotDivide_BetweenSizesTooSmallToFit_DoNotEndTheWalk()
    {
        // Llama 3 405B at tensor 8 and no pipeline: the 1.5-times sizes cannot split a power-of-two batch, and the
        // power-of-two sizes between them are short of memory until 128 chips. The walk must go on to them.
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, """
            model: llama3-405b
            training: {sequence_length: 8192, global_batch: 512, tokens: 10B, precision: bf16}
            plan: {tensor: 8, pipeline: 1}
            deadline: 30 d
            search: {objective: chips, clusters: [{system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}]}
            """);
        var outcome = Run(scenario);
        Assert.NotNull(outcome.Chosen);
        Assert.Contains(outcome.Tried, size => size.Best is null && size.Search.PrunedMemory > 0);
        Assert.Contains(outcome.Tried, size => size.Best is null && size.Search.PrunedMemory == 0);
    }

    [Fact]
    public void TheMostSystemsAllowed_AreTried_WhereTheLadderStopsShortOfThem()
    {
        // 80 chips are 10 DGX H100, which the ladder (8, 12) steps over: the largest count of twos and threes up to
        // them, 9, is tried.
        using var folder = new TemporaryFolder();
        var outcome = Run(Load(folder, Search().Replace("max_chips: 4096", "max_chips: 80", StringComparison.Ordinal)));
        Assert.Null(outcome.Chosen);
        Assert.Equal(72, outcome.Tried[^1].Chips);
        Assert.StartsWith("no size tried, up to 72 of the 80 chips allowed, meets the deadline: the fastest,", outcome.Why, StringComparison.Ordinal);
    }

    [Fact]
    public void AClusterMayRunItsOwnFramework_OthersTheirVendorsDefault()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search().Replace(
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}",
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree, framework: pytorch-fsdp}\n    - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}",
            StringComparison.Ordinal));
        Assert.Equal("pytorch-fsdp", scenario.Candidates[0].Template.Framework.Id);
        Assert.True(scenario.Candidates[0].Template.FrameworkNamed);
        Assert.Equal(Repository.Catalog.TrainingFrameworkFor(scenario.Candidates[1].Template.Cluster.Chip).Id, scenario.Candidates[1].Template.Framework.Id);
    }

    [Fact]
    public void ASystemWhoseChipsNoLayoutDivides_IsToldToUsePartOfEach()
    {
        // 72 GB200 per rack against 512 sequences a step: Llama 3 8B's degrees cannot absorb the factor of 9.
        using var folder = new TemporaryFolder();
        var outcome = Run(Load(folder, Search().Replace("{system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}", "{system: nvidia-gb200-nvl72, fabric: infiniband-ndr-fat-tree}", StringComparison.Ordinal)));
        Assert.Null(outcome.Chosen);
        Assert.Equal(SizeSearch.StalledSizes, outcome.Tried.Length);
        Assert.Contains("(a 72-chip system does not divide a global batch of 512 sequences: part of each system, search.clusters[].chips_per_system, may)", outcome.Why, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(1.5 * 86400, "36 h")]
    [InlineData(26.04 * 86400, "26 days")]
    [InlineData(5.321 * 86400, "5.32 days")]
    [InlineData(123.4 * 86400, "123 days")]
    [InlineData(2520, "42 min")]
    [InlineData(5721, "95.4 min")]
    [InlineData(90, "90 s")]
    public void RunLengths_ReadInDaysHoursOrMinutes(double seconds, string expected) =>
        Assert.Equal(expected, RunLength.Of(Duration.FromSeconds(seconds)));

    [Fact]
    public void Outcomes_RankThoseInTimeByTheObjective_ThenTheRest()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search(search: "  objective: chips").Replace(
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}",
            "    - {system: nvidia-dgx-a100, fabric: infiniband-hdr-fat-tree}\n    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}\n    - {system: nvidia-dgx-b200, fabric: infiniband-ndr-fat-tree}",
            StringComparison.Ordinal));
        var ranked = SizeSearch.Rank(scenario.Candidates.Select(candidate => SizeSearch.Run(candidate, scenario.Settings)), SizeObjective.Chips);
        var chips = ranked.Where(outcome => outcome.Chosen is not null).Select(outcome => outcome.Chosen!.Chips).ToArray();
        Assert.Equal(chips.Order(), chips);
        Assert.Equal("nvidia-dgx-b200", ranked[0].Candidate.Template.Cluster.System.Id);
    }

    [Fact]
    public void AClusterMayTrainInItsOwnFormat_AndItsPeakBoundFollows()
    {
        using var folder = new TemporaryFolder();
        var scenario = Load(folder, Search().Replace(
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}",
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}\n    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree, precision: fp8}",
            StringComparison.Ordinal));
        var (bf16, fp8) = (scenario.Candidates[0], scenario.Candidates[1]);
        Assert.Equal("bf16", bf16.Template.Job.Format.Key);
        Assert.Equal("fp8", fp8.Template.Job.Format.Key);
        var chip = bf16.Template.Cluster.Chip;
        var (bf16Bound, fp8Bound) = (SizeSearch.LeastChipsAtPeak(bf16, scenario.Settings.Deadline, 1e12), SizeSearch.LeastChipsAtPeak(fp8, scenario.Settings.Deadline, 1e12));
        Within.Relative(chip.PeakRate(Hardware.Precision.Bf16)!.Value / chip.PeakRate(Hardware.Precision.Fp8)!.Value, fp8Bound / bf16Bound, 1e-12);
    }

    [Fact]
    public void TheSearch_IsDeterministic()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("search.yaml", Search());
        var first = CliRunner.Run("train-search", path, "--json");
        var second = CliRunner.Run("train-search", path, "--json");
        Assert.Equal(0, first.ExitCode);
        Assert.Equal(first.Output, second.Output);
    }
}
