using System.Text.Json;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class MixedPipelineCommandTests
{
    private const string Example = "examples/mixed/llama3-405b-rubin-trainium4.yaml";

    private static string Text => File.ReadAllText(Repository.Path(Example));

    private static CliRunner.Outcome Simulate(string text, params string[] options)
    {
        using var folder = new TemporaryFolder();
        return CliRunner.Run(["simulate", folder.Write("scenario.yaml", text), .. options]);
    }

    [Fact]
    public void TheJson_GivesTheEnginesStep_EachKind_AndEachKindAlone()
    {
        var outcome = CliRunner.Run("simulate", Repository.Path(Example), "--json");
        Assert.Equal(0, outcome.ExitCode);
        var root = JsonDocument.Parse(outcome.Output).RootElement;
        var expected = MixedPipelineEngine.Simulate(Repository.Example("mixed/llama3-405b-rubin-trainium4"));
        var mixed = root.GetProperty("mixedPipeline");
        Assert.Equal(expected.StepTime.Seconds, mixed.GetProperty("stepTimeSeconds").GetDouble());
        Assert.Equal(16, mixed.GetProperty("rankWorkSeconds").GetArrayLength());
        var pools = mixed.GetProperty("pools");
        Assert.Equal(["NVIDIA Rubin GPU (Vera Rubin NVL72)", "AWS Trainium4"], pools.EnumerateArray().Select(pool => pool.GetProperty("chip").GetString()));
        Assert.Equal(126, pools.EnumerateArray().Sum(pool => pool.GetProperty("layers").EnumerateArray().Sum(layers => layers.GetInt32())));
        // Where the pipeline could split: every split from the other kind alone to the first kind alone, the scenario's
        // own (its layers balanced) among them; the splits whose chips are not whole racks say so.
        var splits = root.GetProperty("splits").EnumerateArray().ToArray();
        Assert.Equal(Enumerable.Range(0, 17), splits.Select(split => split.GetProperty("firstStages").GetInt32()));
        Assert.Equal(expected.StepTime.Seconds, splits[2].GetProperty("stepTimeSeconds").GetDouble());
        Assert.All(splits.Where((_, stages) => stages % 2 == 1 && stages > 1), split => Assert.Contains("whole number", split.GetProperty("problems")[0].GetString(), StringComparison.Ordinal));
        var valid = splits.Where(split => split.GetProperty("valid").GetBoolean()).ToArray();
        Assert.Equal(9, valid.Length);

        // More stages on the faster kind: a shorter step, less energy and more rent per token, the mixed pipelines (the
        // replay) between the two kinds alone (the closed form, within the 1% the two differ by).
        var between = valid[1..^1];
        var steps = between.Select(split => split.GetProperty("stepTimeSeconds").GetDouble()).ToArray();
        Assert.Equal(steps.OrderDescending(), steps);
        var energy = between.Select(split => split.GetProperty("facilityEnergyPerTokenJoules").GetDouble()).ToArray();
        Assert.Equal(energy.OrderDescending(), energy);
        var cost = between.Select(split => split.GetProperty("costPerMillionTokens").GetDouble()).ToArray();
        Assert.Equal(cost.Order(), cost);
        double End(Index index, string figure) => valid[index].GetProperty(figure).GetDouble();
        Assert.All(steps, step => Assert.InRange(step, End(^1, "stepTimeSeconds") * 0.99, End(0, "stepTimeSeconds") * 1.01));
        Assert.All(energy, joules => Assert.InRange(joules, End(^1, "facilityEnergyPerTokenJoules"), End(0, "facilityEnergyPerTokenJoules")));
        Assert.All(cost, dollars => Assert.InRange(dollars, End(0, "costPerMillionTokens"), End(^1, "costPerMillionTokens")));
    }

    [Fact]
    public void TheReport_ShowsEachKind_TheStep_AndTheKindsAlone()
    {
        var outcome = CliRunner.Run(240, "simulate", Repository.Path(Example));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("a pipeline over two kinds of chip", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Each kind of chip's stages", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("balanced by the engine", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("0 + 16 (AWS Trainium4 alone)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("2 + 14 (this split)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Left out, their chips not whole systems of a kind: 1 + 15, 3 + 13", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheTimeline_HasARowPerStageOfBothKinds()
    {
        using var folder = new TemporaryFolder();
        var trace = Path.Combine(folder.Path, "step.trace.json");
        var outcome = CliRunner.Run("simulate", Repository.Path(Example), "--timeline", trace);
        Assert.Equal(0, outcome.ExitCode);
        var events = JsonDocument.Parse(File.ReadAllText(trace)).RootElement.GetProperty("traceEvents");
        Assert.Equal(16, events.EnumerateArray().Where(item => item.GetProperty("ph").GetString() == "X").Select(item => item.GetProperty("tid").GetInt32()).Distinct().Count());
    }

    [Theory]
    [InlineData("chips: 504", "chips: 576", "cluster.chips", "tensor x context x data x 14 = 504 chips")]
    [InlineData("stages: 2 ", "stages: 16 ", "mixed_pipeline.stages", "leaves the cluster none of the plan's 16 pipeline stages")]
    [InlineData("  data: 9\n", "\n", "plan.data", "is needed with mixed_pipeline")]
    [InlineData("framework: megatron-core", "framework: megatron-core\n  layers_per_stage: 60", "mixed_pipeline.layers_per_stage", "use at most 56")]
    [InlineData("framework: megatron-core", "framework: megatron-core\nresilience: {}", "resilience", "is not drawn over a mixed pipeline yet")]
    public void ALayoutTheTwoKindsCannotShare_IsReportedAtItsField(string from, string to, string field, string reason)
    {
        Assert.Contains(from, Text, StringComparison.Ordinal);
        var outcome = Simulate(Text.Replace(from, to, StringComparison.Ordinal));
        Assert.NotEqual(0, outcome.ExitCode);
        Reported.AtField(outcome, "scenario.yaml", field, reason);
    }

    [Theory]
    [InlineData("plan", "plan searches every layout on one kind of chip")]
    [InlineData("compare", "compare sets scenarios on one kind of chip side by side")]
    public void ACommandOnOneKindOfChip_RefusesAMixedPipeline(string command, string reason)
    {
        var path = Repository.Path(Example);
        var outcome = command == "compare" ? CliRunner.Run(command, path, path) : CliRunner.Run(command, path);
        Assert.NotEqual(0, outcome.ExitCode);
        Reported.AtField(outcome, "llama3-405b-rubin-trainium4.yaml", "mixed_pipeline", reason);
    }

    [Fact]
    public void Kernels_AreRefusedForAMixedPipeline()
    {
        var outcome = CliRunner.Run("simulate", Repository.Path(Example), "--kernels");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("--kernels", outcome.Errors, StringComparison.Ordinal);
    }
}
