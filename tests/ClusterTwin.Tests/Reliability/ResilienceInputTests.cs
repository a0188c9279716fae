using System.Text.Json;
using ClusterTwin.Hardware;
using ClusterTwin.Reliability;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Reliability;

public class ResilienceInputTests
{
    private const string Scenario = """
        name: Llama 3 8B on 64 H100
        cluster: {system: nvidia-dgx-h100, count: 8, fabric: infiniband-ndr-fat-tree}
        model: llama3-8b
        training: {sequence_length: 8192, global_batch: 512, tokens: 1T, precision: bf16}
        plan: {tensor: 1, pipeline: 1, data: 64, micro_batch: 1, recompute: selective, zero: 1}
        resilience: {restart: 5 min}
        """;

    private static JsonElement Run(string text)
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("run.yaml", text), "--json");
        Assert.Equal(0, outcome.ExitCode);
        return JsonDocument.Parse(outcome.Output).RootElement.GetProperty("run");
    }

    /// <summary>The run of the scenario with <paramref name="resilience"/> as its resilience block.</summary>
    private static JsonElement RunWith(string resilience) => Run(Scenario.Replace("{restart: 5 min}", resilience, StringComparison.Ordinal));

    [Fact]
    public void TheResilienceBlock_ReplacesTheCatalogueFigures_ItNames()
    {
        var named = Run(Scenario);
        var catalogue = Run(Scenario.Replace("resilience: {restart: 5 min}", string.Empty, StringComparison.Ordinal));
        Assert.Equal(300, named.GetProperty("restartSeconds").GetDouble());
        Assert.Equal(12.7 * 60, catalogue.GetProperty("restartSeconds").GetDouble(), 9);
        Assert.Equal(catalogue.GetProperty("meanTimeBetweenInterruptionsSeconds").GetDouble(), named.GetProperty("meanTimeBetweenInterruptionsSeconds").GetDouble());
        Assert.True(named.GetProperty("expectedSeconds").GetDouble() < catalogue.GetProperty("expectedSeconds").GetDouble());
        // The H100's figure: Llama 3's 50,700 chip-hours over 64 chips.
        Within.Relative(50_700.0 / 64 * 3600, catalogue.GetProperty("meanTimeBetweenInterruptionsSeconds").GetDouble(), 1e-9);
        Assert.StartsWith("llama3-herd-2024", catalogue.GetProperty("interruptionRateSource").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public void TheRunsCost_HoldsTheChipsForItsWholeWallTime()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("run.yaml", Scenario), "--json");
        var document = JsonDocument.Parse(outcome.Output).RootElement;
        var run = document.GetProperty("run");
        var slowdown = run.GetProperty("expectedSeconds").GetDouble() / run.GetProperty("faultFreeSeconds").GetDouble();
        Within.Relative(document.GetProperty("cost").GetProperty("runDollars").GetDouble() * slowdown, run.GetProperty("costDollars").GetDouble(), 1e-9);
        Assert.Equal("optimum", run.GetProperty("checkpointIntervalSetBy").GetString());
        Assert.True(run.GetProperty("completes").GetBoolean());
    }

    [Fact]
    public void AScenarioWithoutTokens_HasNoRun()
    {
        using var folder = new TemporaryFolder();
        var withoutTokens = Scenario.Replace(", tokens: 1T", string.Empty, StringComparison.Ordinal).Replace("resilience: {restart: 5 min}", string.Empty, StringComparison.Ordinal);
        var outcome = CliRunner.Run("simulate", folder.Write("run.yaml", withoutTokens), "--json");
        Assert.Equal(0, outcome.ExitCode);
        Assert.False(JsonDocument.Parse(outcome.Output).RootElement.TryGetProperty("run", out _));
        Assert.DoesNotContain("The run with interruptions", CliRunner.Run("simulate", folder.Write("run.yaml", withoutTokens)).Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSimulatedRuns_AreSeeded_AndTheirMeanMeetsDalys()
    {
        var run = Run(Scenario);
        var first = run.GetProperty("simulated");
        var again = Run(Scenario).GetProperty("simulated");
        var reseeded = RunWith("{restart: 5 min, seed: 9, simulated_runs: 200}").GetProperty("simulated");
        Assert.Equal(first.GetRawText(), again.GetRawText());
        Assert.Equal(1000, first.GetProperty("runs").GetInt32());
        Assert.Equal(200, reseeded.GetProperty("runs").GetInt32());
        Assert.NotEqual(first.GetProperty("meanSeconds").GetDouble(), reseeded.GetProperty("meanSeconds").GetDouble());
        // Sixty-four chips over 1T tokens: a few interruptions a run, each near its expected cost.
        var expected = run.GetProperty("expectedSeconds").GetDouble();
        Assert.True(Math.Abs(first.GetProperty("meanSeconds").GetDouble() - expected) < 4 * first.GetProperty("standardErrorSeconds").GetDouble());
        Assert.False(first.TryGetProperty("spares", out _));
        Assert.False(RunWith("{restart: 5 min, simulated_runs: 0}").TryGetProperty("simulated", out _));
    }

    [Fact]
    public void SpareServers_TakeTheCataloguesReplacementShare_UnlessTheScenarioNamesOne()
    {
        var catalogue = RunWith("{restart: 5 min, spare_servers: 0, server_repair_time: 3 d}").GetProperty("simulated");
        var own = RunWith("{restart: 5 min, spare_servers: 0, server_repair_time: 3 d, replacement_share: 0.5}").GetProperty("simulated");
        Assert.Equal(0.78, catalogue.GetProperty("spares").GetProperty("replacementShare").GetDouble());
        Assert.Equal(0.5, own.GetProperty("spares").GetProperty("replacementShare").GetDouble());
        Assert.Equal(3 * 86400, catalogue.GetProperty("spares").GetProperty("repairSeconds").GetDouble());
        // Without a spare, every server taken out (78% or 50% of the interruptions) stops the job for its three days.
        Within.Relative(0.78 * catalogue.GetProperty("meanInterruptions").GetDouble() * 3 * 86400, catalogue.GetProperty("meanWaitingForSparesSeconds").GetDouble(), 0.1);
        Within.Relative(0.5 * own.GetProperty("meanInterruptions").GetDouble() * 3 * 86400, own.GetProperty("meanWaitingForSparesSeconds").GetDouble(), 0.1);
    }

    [Fact]
    public void TheReport_ShowsTheRunWithItsInterruptions()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("run.yaml", Scenario));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("The run with interruptions", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Daly's optimum", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("restart", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("simulated runs, event by event", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{restart: 5 min}", "{restart: 5 minutes}", "resilience.restart", "minutes")]
    [InlineData("{restart: 5 min}", "{restart: -5 min}", "resilience.restart", "is negative")]
    [InlineData("{restart: 5 min}", "{restart: 30 d}", "resilience.restart", "outside the plausible range")]
    [InlineData("{restart: 5 min}", "{restart_time: 5 min}", "resilience.restart_time", "unknown field")]
    [InlineData("{restart: 5 min}", "{chip_time_between_interruptions: 1 min}", "resilience.chip_time_between_interruptions", "outside the plausible range")]
    [InlineData("{restart: 5 min}", "{checkpoint_save_per_chip: 0 MB/s}", "resilience.checkpoint_save_per_chip", "")]
    [InlineData("{restart: 5 min}", "{checkpoint_copy_per_chip: fast}", "resilience.checkpoint_copy_per_chip", "")]
    [InlineData("{restart: 5 min}", "{checkpoint_interval: 0.1 s}", "resilience.checkpoint_interval", "outside the plausible range")]
    [InlineData("resilience: {restart: 5 min}", "resilience: 5 min", "resilience", "")]
    [InlineData("{restart: 5 min}", "{chip_time_between_interruptions: 0 h}", "resilience.chip_time_between_interruptions", "is zero")]
    [InlineData("{restart: 5 min}", "{checkpoint_interval: 0 s}", "resilience.checkpoint_interval", "is zero")]
    [InlineData("{restart: 5 min}", "{storage_write_bandwidth: 0 TB/s}", "resilience.storage_write_bandwidth", "")]
    [InlineData(", tokens: 1T", "", "resilience", "add training.tokens")]
    [InlineData("{restart: 5 min}", "{spare_servers: 8}", "resilience", "go together")]
    [InlineData("{restart: 5 min}", "{server_repair_time: 2 d}", "resilience", "go together")]
    [InlineData("{restart: 5 min}", "{spare_servers: -1, server_repair_time: 2 d}", "resilience.spare_servers", "out of range")]
    [InlineData("{restart: 5 min}", "{spare_servers: 8, server_repair_time: 2 years}", "resilience.server_repair_time", "years")]
    [InlineData("{restart: 5 min}", "{spare_servers: 8, server_repair_time: 2 d, replacement_share: 1.5}", "resilience.replacement_share", "fraction")]
    [InlineData("{restart: 5 min}", "{replacement_share: 0.5}", "resilience.replacement_share", "applies to spare servers")]
    [InlineData("{restart: 5 min}", "{simulated_runs: 2.5}", "resilience.simulated_runs", "not a whole number")]
    [InlineData("{restart: 5 min}", "{simulated_runs: 10000000}", "resilience.simulated_runs", "out of range")]
    public void BadResilience_IsReportedWithFieldAndReason(string find, string replace, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var text = Scenario.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Scenario, text);
        var outcome = CliRunner.Run("simulate", folder.Write("bad.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "bad.yaml", field, reason);
    }

    [Theory]
    [InlineData("  - family: nvidia-ampere", "  - family: nvidia-amper", "interruptions[nvidia-amper].family", "is no chip's family")]
    [InlineData("  - family: default", "  - family: nvidia-hopper", "interruptions[nvidia-hopper]", "family listed twice")]
    [InlineData("      value: 13600 h", "      value: 13600 hours", "interruptions[nvidia-ampere].chip_time_between_interruptions.value", "hours")]
    [InlineData("      source: opt-175b-2022", "      source: opt-2022", "interruptions[nvidia-ampere].chip_time_between_interruptions.source", "opt-2022")]
    [InlineData("    value: 7.9 MB/s", "    value: 0 MB/s", "recovery.checkpoint_save_per_chip", "")]
    [InlineData("    value: 12.7 min", "    value: 12.7 d", "recovery.restart.value", "outside the plausible range")]
    [InlineData("  restart:", "  restarts:", "recovery.restarts", "unknown field")]
    [InlineData("    value: 0.78", "    value: 78", "recovery.replacement_share.value", "fraction")]
    public void BadReliabilityCatalogue_IsReportedWithFieldAndReason(string find, string replace, string field, string reason)
    {
        var error = CatalogEdits.LoadWithChange(Path.Combine("reliability", "interruptions.yaml"), find, replace);
        var diagnostic = Assert.Single(error.Diagnostics, diagnostic => diagnostic.Field.StartsWith(field, StringComparison.Ordinal) || diagnostic.Field == field);
        Assert.Contains(reason, diagnostic.Message, StringComparison.Ordinal);
        Assert.EndsWith("interruptions.yaml", diagnostic.File, StringComparison.Ordinal);
    }

    [Fact]
    public void TheCatalogueEntryOfAChip_GivesItsFamilysInterruptionFigure_WithItsStatus()
    {
        var trainium = CliRunner.Run(300, "catalog", "show", "aws-trainium3");
        Assert.Equal(0, trainium.ExitCode);
        Assert.Contains("chip-time between job interruptions │ 50,700 h (13,600 h - 101,400 h)", trainium.Output, StringComparison.Ordinal);
        Assert.Contains("estimate", trainium.Output, StringComparison.Ordinal);
        Assert.Contains("50,700 h (25,300 h - 50,700 h)", CliRunner.Run(300, "catalog", "show", "nvidia-h100-sxm").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryFamilyWithoutItsOwnFigure_TakesTheDefault_MarkedAsAnEstimate()
    {
        var reliability = Repository.Catalog.Reliability!;
        var fallback = reliability.ChipTimeBetweenInterruptions[ReliabilityCatalog.DefaultFamily];
        Assert.Equal(FigureStatus.Estimate, fallback.Status);
        foreach (var chip in Repository.Catalog.Chips.Values)
        {
            var settings = reliability.SettingsFor(chip.Family);
            Assert.True(settings.ChipTimeBetweenInterruptions.Status != FigureStatus.Official);
            Assert.Equal(reliability.ChipTimeBetweenInterruptions.TryGetValue(chip.Family, out var own) ? own : fallback, settings.ChipTimeBetweenInterruptions);
        }
    }
}
