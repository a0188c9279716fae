using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class PlanCommandTests
{
    private static readonly string[] Parts = ["compute", "tensor-parallel communication", "pipeline communication", "pipeline bubble", "data-parallel communication", "optimizer"];

    [Theory]
    [InlineData("examples/plan-gpt3-175b-h100-1024.yaml")]
    [InlineData("examples/plan-llama3-405b-h100-16k.yaml")]
    [InlineData("examples/plan-llama3-405b-trainium3-1m.yaml")]
    public void Plan_Example_RanksLayouts_AndExplainsTheBest(string example)
    {
        var outcome = CliRunner.Run("plan", Repository.Path(example));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(string.Empty, outcome.Errors);
        Assert.Contains("Best layouts by step time", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Why:", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("Trade:", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("evaluated", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanJson_HasTheDocumentedFields_AndTheyAgree()
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), "--json", "--top", "3");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var root = document.RootElement;
        var plans = root.GetProperty("plans").EnumerateArray().ToArray();
        Assert.Equal(3, plans.Length);
        var steps = plans.Select(plan => plan.GetProperty("stepTimeSeconds").GetDouble()).ToArray();
        Assert.Equal(steps.Order(), steps);
        foreach (var plan in plans)
        {
            var layout = plan.GetProperty("plan");
            Assert.Equal(1024, layout.GetProperty("tensor").GetInt32() * layout.GetProperty("context").GetInt32() * layout.GetProperty("pipeline").GetInt32() * layout.GetProperty("data").GetInt32());
            Within.Relative(plan.GetProperty("stepTimeSeconds").GetDouble(), plan.GetProperty("breakdown").EnumerateObject().Sum(part => part.Value.GetDouble()), 1e-9);
            Assert.True(plan.GetProperty("memoryPerChipBytes").GetDouble() <= plan.GetProperty("memoryCapacityBytes").GetDouble());
        }

        var evaluated = root.GetProperty("evaluated").GetInt64();
        Assert.True(evaluated >= 3);
        Assert.Equal(root.GetProperty("considered").GetInt64(), root.GetProperty("pruned").GetInt64() + evaluated);
        Assert.True(root.GetProperty("elapsedSeconds").GetDouble() > 0);
        Assert.Contains(root.GetProperty("explanation").GetProperty("boundBy").GetString(), Parts);
    }

    [Fact]
    public void Compare_ReportsHowMuchFasterTheBestIsThanTheGivenPlan()
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), "--compare", "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var given = document.RootElement.GetProperty("given");
        var best = document.RootElement.GetProperty("plans")[0].GetProperty("stepTimeSeconds").GetDouble();
        var published = given.GetProperty("stepTimeSeconds").GetDouble();
        Assert.True(best <= published);
        Within.Relative((1 - (best / published)) * 100, given.GetProperty("bestFasterByPercent").GetDouble(), 1e-9);
    }

    [Fact]
    public void MemoryHeadroom_KeepsEveryRankedLayoutBelowTheReducedCapacity()
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), "--json", "--memory-headroom", "20", "--top", "10");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        Assert.All(document.RootElement.GetProperty("plans").EnumerateArray(), plan =>
            Assert.True(plan.GetProperty("memoryPerChipBytes").GetDouble() <= 0.8 * plan.GetProperty("memoryCapacityBytes").GetDouble()));
    }

    [Theory]
    [InlineData("--objective", "speed", "is not an objective")]
    [InlineData("--top", "0", "--top '0' is not a whole number from 1 to 1000")]
    [InlineData("--top", "abc", "--top 'abc' is not a whole number from 1 to 1000")]
    [InlineData("--top", "2.5", "--top '2.5' is not a whole number")]
    [InlineData("--memory-headroom", "100", "--memory-headroom '100' is not a percentage from 0 up to, not including, 100")]
    [InlineData("--memory-headroom", "ten", "--memory-headroom 'ten' is not a percentage")]
    [InlineData("--memory-headroom", "NaN", "--memory-headroom 'NaN' is not a percentage")]
    public void BadOption_IsAClearError(string option, string value, string expected)
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), option, value);
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains(expected, outcome.Output + outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Output + outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_WithoutAPlanBlock_IsAClearError()
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), "--compare");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--compare needs a plan block", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void HybridSharding_InThePlanBlock_IsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml")).Replace("zero: 1 ", "zero: 1\n  sharding: 4 ", StringComparison.Ordinal);
        var outcome = CliRunner.Run("plan", folder.Write("sharded.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("plan.sharding", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void PlanJson_IsIdenticalAcrossRuns_ApartFromTheElapsedTime()
    {
        string Run() => System.Text.RegularExpressions.Regex.Replace(
            CliRunner.Run("plan", Repository.Path("examples", "plan-llama3-405b-trainium3-1m.yaml"), "--json").Output, "\"elapsedSeconds\": [0-9.eE+-]+", "\"elapsedSeconds\": 0");
        Assert.Equal(Run(), Run());
    }

    [Fact]
    public void Compare_WithAnInvalidPlanBlock_IsAClearError()
    {
        var outcome = CliRunner.Run("plan", Repository.Path("examples", "plan-llama3-405b-h100-16k.yaml"), "--compare");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--compare needs the plan block to be a valid layout", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void NoLayout_PrintsWhy_AndExitsNonZero()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml")) + "plan: {micro_batch: 7}\n";
        var outcome = CliRunner.Run("plan", folder.Write("seven.yaml", text));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("No layout both divides and fits", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("under the pinned values", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void MarkdownThatCannotBeWritten_IsAnInputError()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("compare-layouts", "--markdown", folder.Path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("cannot write the report", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void Compare_NeedsTwoScenarios_AndReportsEachSideBySide()
    {
        var one = CliRunner.Run("compare", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        Assert.NotEqual(0, one.ExitCode);
        Assert.Contains("two scenario files or more", one.Output + one.Errors, StringComparison.Ordinal);

        var two = CliRunner.Run("compare", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), Repository.Path("examples", "llama3-70b-trn2-ultraserver.yaml"), "--json");
        Assert.Equal(0, two.ExitCode);
        using var document = JsonDocument.Parse(two.Output);
        var rows = document.RootElement.GetProperty("scenarios").EnumerateArray().ToArray();
        Assert.Equal(2, rows.Length);
        Assert.All(rows, row => Assert.True(row.GetProperty("stepTimeSeconds").GetDouble() > 0));
        Assert.All(rows, row =>
        {
            var (step, band) = (row.GetProperty("stepTimeSeconds").GetDouble(), row.GetProperty("stepTimeBandSeconds"));
            Assert.InRange(step, band.GetProperty("low").GetDouble(), band.GetProperty("high").GetDouble());
            Assert.True(row.GetProperty("joulesPerToken").GetDouble() > 0);
            Assert.True(row.GetProperty("costPerMillionTokens").GetDouble() > 0);
            Assert.True(row.GetProperty("mfuCausal").GetDouble() <= row.GetProperty("mfu").GetDouble());
        });
        Assert.Matches("^[0-9]+ measured runs$", rows[0].GetProperty("calibration").GetString());
        Assert.Equal("carried from aws-neuroncore-v2", rows[1].GetProperty("calibration").GetString());
        var alone = JsonDocument.Parse(CliRunner.Run("simulate", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), "--json").Output).RootElement;
        Assert.Equal(alone.GetProperty("costPerMillionTokens").GetDouble(), rows[0].GetProperty("costPerMillionTokens").GetDouble(), 9);
    }

    [Fact]
    public void RequireFit_ExitsWithOne_OnlyWhereTheLayoutDoesNotFit()
    {
        using var folder = new TemporaryFolder();
        var kept = folder.Write("kept.yaml", Llama70OnGb200.Replace("zero: 3}", "zero: 3, data: 64}", StringComparison.Ordinal));
        var offloaded = folder.Write("offloaded.yaml", Llama70OnGb200.Replace("zero: 3}", "zero: 3, data: 64, offload_activations: 43}", StringComparison.Ordinal));
        Assert.Equal(0, CliRunner.Run("simulate", kept).ExitCode);
        var over = CliRunner.Run("simulate", kept, "--require-fit");
        Assert.Equal(1, over.ExitCode);
        Assert.Contains("does not fit", over.Output, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run("simulate", offloaded, "--require-fit").ExitCode);
    }

    [Fact]
    public void Compare_SaysWhichScenarioDoesNotFit()
    {
        // Megatron-Bridge's Llama 3 70B layout on GB200 is over memory without its recipe's offloading, and fits with it.
        using var folder = new TemporaryFolder();
        var kept = folder.Write("kept.yaml", Llama70OnGb200.Replace("zero: 3}", "zero: 3, data: 64}", StringComparison.Ordinal).Replace("name: Llama 3 70B on 64 GB200", "name: all kept", StringComparison.Ordinal));
        var offloaded = folder.Write("offloaded.yaml", Llama70OnGb200.Replace("zero: 3}", "zero: 3, data: 64, offload_activations: 43}", StringComparison.Ordinal).Replace("name: Llama 3 70B on 64 GB200", "name: 43 offloaded", StringComparison.Ordinal));
        var outcome = CliRunner.Run("compare", kept, offloaded, "--markdown", Path.Combine(folder.Path, "page.md"));
        Assert.Equal(0, outcome.ExitCode);
        var rows = File.ReadAllLines(Path.Combine(folder.Path, "page.md")).Where(line => line.StartsWith("| all kept", StringComparison.Ordinal) || line.StartsWith("| 43 offloaded", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Contains("(does not fit) |", rows[0], StringComparison.Ordinal);
        Assert.DoesNotContain("does not fit", rows[1], StringComparison.Ordinal);
    }

    private const string Llama70OnGb200 = """
        name: Llama 3 70B on 64 GB200
        cluster: {system: nvidia-gb200-nvl72, chips: 64, fabric: infiniband-ndr-fat-tree}
        model: llama3-70b
        training: {sequence_length: 8192, global_batch: 256, precision: fp8, attention: flash, gradient_reduction: bf16}
        plan: {tensor: 1, pipeline: 1, micro_batch: 2, recompute: none, zero: 3}
        """;

    [Fact]
    public void Offload_LetsTheSearchOffload_AndSaysHowManyLayoutsItMadeFit()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("llama70.yaml", Llama70OnGb200);
        var plain = CliRunner.Run("plan", path, "--json", "--top", "20");
        var offloading = CliRunner.Run("plan", path, "--offload", "--json", "--top", "20");
        Assert.Equal((0, 0), (plain.ExitCode, offloading.ExitCode));
        using var without = JsonDocument.Parse(plain.Output);
        using var with = JsonDocument.Parse(offloading.Output);
        Assert.Equal(0, without.RootElement.GetProperty("fitByOffloading").GetInt64());
        Assert.Equal(1, with.RootElement.GetProperty("fitByOffloading").GetInt64());
        var offloaded = with.RootElement.GetProperty("plans").EnumerateArray().Single(plan => plan.GetProperty("plan").GetProperty("offloadedLayers").GetInt32() > 0);
        Assert.True(offloaded.GetProperty("breakdown").GetProperty("activationOffloadSeconds").GetDouble() > 0);
        Assert.Contains("fit by offloading activations to the host", CliRunner.Run("plan", path, "--offload").Output, StringComparison.Ordinal);
    }

    [Fact]
    public void Offload_WithAPinnedOffload_IsAClearError()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("pinned.yaml", Llama70OnGb200.Replace("zero: 3}", "zero: 3, offload_activations: 40}", StringComparison.Ordinal));
        var outcome = CliRunner.Run("plan", path, "--offload");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("offload_activations: 40", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("remove one of them", outcome.Errors, StringComparison.Ordinal);
        Assert.Equal(0, CliRunner.Run("plan", path).ExitCode);
    }
}
