using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class EventLevelCommandTests
{
    private const string Scenario = """
        name: GPT-3 175B on 256 H100
        cluster: {system: nvidia-dgx-h100, count: 32, fabric: infiniband-ndr-fat-tree}
        model: gpt3-175b
        training: {sequence_length: 2048, global_batch: 256, precision: bf16}
        plan: {tensor: 8, pipeline: 8, data: 4, virtual_stages: 2, micro_batch: 1, sequence_parallel: true, recompute: selective, zero: 1}
        stragglers: {chip_spread: 0.02, transient_share: 1e-4, transient_slowdown: 1.5, draws: 300}
        """;

    private static CliRunner.Outcome Simulate(string text, params string[] options)
    {
        using var folder = new TemporaryFolder();
        return CliRunner.Run(["simulate", folder.Write("scenario.yaml", text), .. options]);
    }

    [Fact]
    public void TheJson_GivesTheReplayBesideTheClosedForm_AndTheStragglerDraws_TheSameEveryRun()
    {
        var outcome = Simulate(Scenario, "--json");
        Assert.Equal(0, outcome.ExitCode);
        var root = JsonDocument.Parse(outcome.Output).RootElement;
        var replay = root.GetProperty("eventLevel");
        var closedForm = root.GetProperty("stepTimeSeconds").GetDouble();
        Assert.Equal(closedForm, replay.GetProperty("closedFormStepTimeSeconds").GetDouble());
        Assert.InRange(replay.GetProperty("stepTimeSeconds").GetDouble() / closedForm, 0.98, 1.02);
        Assert.Equal(8, replay.GetProperty("rankWorkSeconds").GetArrayLength());
        Assert.Equal(2 * 64 * 2 * 8, replay.GetProperty("passes").GetInt32());
        var stragglers = replay.GetProperty("stragglers");
        Assert.Equal(300, stragglers.GetProperty("drawn").GetInt32());
        Assert.Equal(32, stragglers.GetProperty("chipsPerRank").GetInt64());
        Assert.True(stragglers.GetProperty("meanSeconds").GetDouble() > stragglers.GetProperty("evenStepSeconds").GetDouble());
        Assert.True(stragglers.GetProperty("p99Seconds").GetDouble() >= stragglers.GetProperty("p50Seconds").GetDouble());
        Assert.True(stragglers.GetProperty("standardErrorSeconds").GetDouble() > 0);
        Assert.Equal(outcome.Output, Simulate(Scenario, "--json").Output);
    }

    [Fact]
    public void WithTokens_TheTimeToTrainCarriesTheStragglersSlowdown()
    {
        var outcome = Simulate(Scenario.Replace("global_batch: 256,", "global_batch: 256, tokens: 300B,", StringComparison.Ordinal), "--json");
        Assert.Equal(0, outcome.ExitCode);
        var root = JsonDocument.Parse(outcome.Output).RootElement;
        var replay = root.GetProperty("eventLevel");
        var slowdown = replay.GetProperty("stragglers").GetProperty("slowdown").GetDouble();
        Assert.True(slowdown > 0);
        Assert.Equal(root.GetProperty("timeToTrainSeconds").GetDouble() * (1 + slowdown), replay.GetProperty("timeToTrainWithStragglersSeconds").GetDouble(), 6);
        Assert.False(JsonDocument.Parse(Simulate(Scenario, "--json").Output).RootElement.GetProperty("eventLevel").TryGetProperty("timeToTrainWithStragglersSeconds", out _));
    }

    [Fact]
    public void TheTables_ShowTheReplayAndTheStragglers()
    {
        var outcome = Simulate(Scenario);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("The step replayed pass by pass", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("against the closed form's", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("stragglers: slowdown of the mean step", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("32 chips share each rank's work", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void WithoutAPipelineOrStragglers_TheReportHasNoReplay()
    {
        var plain = Scenario.Replace("pipeline: 8, data: 4, virtual_stages: 2", "pipeline: 1, data: 32", StringComparison.Ordinal)
            .Replace("stragglers: {chip_spread: 0.02, transient_share: 1e-4, transient_slowdown: 1.5, draws: 300}", string.Empty, StringComparison.Ordinal);
        var outcome = Simulate(plain, "--json");
        Assert.Equal(0, outcome.ExitCode);
        Assert.False(JsonDocument.Parse(outcome.Output).RootElement.TryGetProperty("eventLevel", out _));
    }

    [Fact]
    public void TheTimeline_IsATraceOfEveryPass_InMicrosecondsWithinTheStep()
    {
        using var folder = new TemporaryFolder();
        var trace = Path.Combine(folder.Path, "step.trace.json");
        var outcome = CliRunner.Run("simulate", folder.Write("scenario.yaml", Scenario), "--timeline", trace);
        Assert.Equal(0, outcome.ExitCode);
        var root = JsonDocument.Parse(File.ReadAllText(trace)).RootElement;
        var step = root.GetProperty("otherData").GetProperty("stepTimeSeconds").GetDouble();
        var passes = root.GetProperty("traceEvents").EnumerateArray().Where(item => item.GetProperty("ph").GetString() == "X" && item.TryGetProperty("args", out _)).ToArray();
        Assert.Equal(2 * 64 * 2 * 8, passes.Length);
        Assert.All(passes, pass =>
        {
            var (start, duration) = (pass.GetProperty("ts").GetDouble(), pass.GetProperty("dur").GetDouble());
            Assert.True(start >= 0 && duration > 0 && start + duration <= (step * 1e6) + 1e-3);
            Assert.InRange(pass.GetProperty("tid").GetInt32(), 0, 7);
        });
        Assert.Equal(8, root.GetProperty("traceEvents").EnumerateArray().Count(item => item.GetProperty("name").GetString() == "thread_name"));
    }

    [Fact]
    public void UnderDualPipe_TheTraceNamesEachPassKindAndDirection()
    {
        using var folder = new TemporaryFolder();
        var trace = Path.Combine(folder.Path, "step.trace.json");
        var outcome = CliRunner.Run("simulate", Repository.Path("examples", "compare-schedules", "deepseek-v3-h100-2048-dualpipe.yaml"), "--timeline", trace);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("dualpipe schedule", outcome.Output, StringComparison.Ordinal);
        var passes = JsonDocument.Parse(File.ReadAllText(trace)).RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(item => item.GetProperty("ph").GetString() == "X" && item.TryGetProperty("args", out _)).ToArray();
        // 16 ranks x 120 micro-batches forward and backward, and the weight gradients each rank splits off.
        Assert.Equal(ClusterTwin.Engines.EventLevel.PipelineTimeline.Passes(16, 1, 120, ClusterTwin.Parallelism.PipelineScheduleKind.DualPipe), passes.Length);
        var categories = passes.GroupBy(pass => pass.GetProperty("cat").GetString()!).ToDictionary(group => group.Key, group => group.Count());
        Assert.Equal(16 * 120, categories["forward"]);
        Assert.Equal(categories["weight gradient"], categories["input gradient"]);
        Assert.Equal(16 * 120, categories["backward"] + categories["input gradient"]);
        Assert.Contains(passes, pass => pass.GetProperty("name").GetString() == "W0.1");

        // The critical path's passes are marked, and are what simulate --json counts: a chain, each after the last.
        var critical = passes.Where(pass => pass.GetProperty("args").GetProperty("critical_path").GetBoolean())
            .Select(pass => (Start: pass.GetProperty("ts").GetDouble(), End: pass.GetProperty("ts").GetDouble() + pass.GetProperty("dur").GetDouble())).OrderBy(pass => pass.Start).ToArray();
        var json = JsonDocument.Parse(CliRunner.Run("simulate", Repository.Path("examples", "compare-schedules", "deepseek-v3-h100-2048-dualpipe.yaml"), "--json").Output).RootElement.GetProperty("eventLevel");
        var path = json.GetProperty("criticalPath");
        Assert.Equal(path.GetProperty("passes").GetInt32(), critical.Length);
        Assert.All(critical.Zip(critical.Skip(1)), pair => Assert.True(pair.Second.Start >= pair.First.End - 1e-3));
        var parts = path.GetProperty("forwardSeconds").GetDouble() + path.GetProperty("backwardSeconds").GetDouble() + path.GetProperty("weightGradientSeconds").GetDouble() + path.GetProperty("sendSeconds").GetDouble();
        Assert.Equal(json.GetProperty("pipelineSeconds").GetDouble(), parts, 9);
        Assert.Equal(16, path.GetProperty("rankSeconds").GetArrayLength());
    }

    [Fact]
    public void APlanThatDoesNotDivide_KeepsItsReportUnderTimeline_AndExitsOne()
    {
        using var folder = new TemporaryFolder();
        var trace = Path.Combine(folder.Path, "step.trace.json");
        var outcome = CliRunner.Run("simulate", folder.Write("scenario.yaml", Scenario.Replace("pipeline: 8, data: 4", "pipeline: 7, data: 4", StringComparison.Ordinal)), "--timeline", trace);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("is invalid", outcome.Output, StringComparison.Ordinal);
        Assert.False(File.Exists(trace));
    }

    [Fact]
    public void ATimelineThatCannotBeWritten_IsRefusedBeforeAnyWork()
    {
        var outcome = Simulate(Scenario, "--timeline", Path.Combine(Path.GetTempPath(), "no-such-folder-" + Guid.NewGuid().ToString("N"), "step.json"));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("cannot write the timeline: the folder", outcome.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("{chip_spread: 0.5}", "stragglers.chip_spread", "out of range")]
    [InlineData("{transient_share: 1e-5}", "stragglers", "transient_share and transient_slowdown go together")]
    [InlineData("{replaced_beyond: 0.05, transient_share: 1e-5, transient_slowdown: 2}", "stragglers.replaced_beyond", "name chip_spread above 0 too")]
    [InlineData("{draws: 10}", "stragglers", "names no stragglers")]
    [InlineData("{chip_spread: 0.01, spread: 2}", "stragglers", "spread")]
    [InlineData("{chip_spread: 0.01, draws: 0}", "stragglers.draws", "out of range")]
    [InlineData("{chip_spread: 0}", "stragglers", "names no stragglers")]
    [InlineData("{chip_spread: 0, replaced_beyond: 0.02, transient_share: 1e-6, transient_slowdown: 1.2}", "stragglers.replaced_beyond", "name chip_spread above 0 too")]
    public void ABadStragglersBlock_IsNamedWithWhatWouldBeRight(string block, string field, string words)
    {
        var outcome = Simulate(Scenario.Replace("{chip_spread: 0.02, transient_share: 1e-4, transient_slowdown: 1.5, draws: 300}", block, StringComparison.Ordinal));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains(field, outcome.Errors, StringComparison.Ordinal);
        Assert.Contains(words, outcome.Errors, StringComparison.Ordinal);
    }
}
