using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Cli;

/// <summary>
/// Input an audit (session 30) found read without a word, or held to no range: each is now refused where it is written,
/// saying what would be right.
/// </summary>
public class SilentInputTests
{
    private static readonly string Case = File.ReadAllText(Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"));

    // The catalogue, with one figure of the H100's file changed, refused.
    private static InputException RefusedH100(string find, string replace)
    {
        using var folder = TemporaryFolder.WithCatalogCopy();
        var chip = Path.Combine(folder.Path, "chips", "nvidia-h100-sxm.yaml");
        File.WriteAllText(chip, File.ReadAllText(chip).Replace(find, replace, StringComparison.Ordinal));
        return Assert.Throws<InputException>(() => CatalogLoader.Load(folder.Path));
    }

    private static InputException RefusedCase(string text)
    {
        using var folder = new TemporaryFolder();
        return Assert.Throws<InputException>(() => ValidationCaseLoader.Load(folder.Write("case.yaml", text), Repository.Catalog));
    }

    [Theory]
    [InlineData("1e300 s")]
    [InlineData("1 ps")]
    public void AMeasuredStepTimePastPlausible_IsRefused(string time)
    {
        var error = RefusedCase(Case.Replace("step_time: 1.42 s", $"step_time: {time}", StringComparison.Ordinal));
        Assert.Contains($"measured.step_time: '{time}' is outside the plausible range of a duration (expected 1 us to 30 d)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoMeasuredFigures_AreRefused_NotOneDropped()
    {
        var error = RefusedCase(Case.Replace("step_time: 1.42 s", "step_time: 1.42 s\n  tokens_per_second_per_chip: 410", StringComparison.Ordinal));
        Assert.Contains("measured: gives step_time and tokens_per_second_per_chip: give the one figure the source measured", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ADescriptionThatIsNotText_IsRefused()
    {
        using var folder = new TemporaryFolder();
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("s.yaml", SmallScenarios.Training + "\ndescription: {any: [thing]}\n"), Repository.Catalog));
        Assert.Contains("description: expected text, not a mapping", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AKeyThatIsAList_IsRefused_NotSkipped()
    {
        using var folder = new TemporaryFolder();
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("s.yaml", SmallScenarios.Training + "\n? [a, b]\n: 1\n"), Repository.Catalog));
        Assert.Contains("a field's name must be a word, not a list (expected one of: name, description,", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("ttft: 1e300 s", "objectives.ttft: '1e300 s' is outside the plausible range of a duration (expected 1 us to 1 d)")]
    [InlineData("tpot: -5 ms", "objectives.tpot: '-5 ms' is negative (expected 1 us to 1 d)")]
    public void AnObjectivePastPlausible_IsRefused(string objective, string message)
    {
        using var folder = new TemporaryFolder();
        var text = "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\n"
            + "requests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n" + $"objectives: {{{objective}}}\n";
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("s.yaml", text), Repository.Catalog));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ANegativeOverheadWhereZeroIsAllowed_QuotesTheRange_NotAboveZero()
    {
        using var folder = new TemporaryFolder();
        var text = "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4, layer_overhead: -5 us}\n"
            + "requests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n";
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("s.yaml", text), Repository.Catalog));
        Assert.Contains("serving.layer_overhead: '-5 us' is negative (expected 0 to 100 ms)", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate", "examples/serve-llama3-70b-h100.yaml", "is a serving scenario (it has a serving block): run clustertwin serve")]
    [InlineData("plan", "examples/serve-search-llama3-70b.yaml", "is a deployment search (it has a search block): run clustertwin serve-search")]
    [InlineData("serve", "examples/llama3-405b-trainium3-1m.yaml", "is a training scenario (it has a training block): run clustertwin simulate")]
    [InlineData("serve-search", "examples/serve-llama3-70b-h100.yaml", "is a serving scenario (it has a serving block): run clustertwin serve")]
    [InlineData("simulate", "examples/train-search-llama3-70b.yaml", "is a cluster size search (it has a deadline, or training and search blocks): run clustertwin train-search")]
    [InlineData("serve-search", "examples/train-search-llama3-70b.yaml", "is a cluster size search (it has a deadline, or training and search blocks): run clustertwin train-search")]
    [InlineData("train-search", "examples/plan-gpt3-175b-h100-1024.yaml", "is a training scenario (it has a training block): run clustertwin simulate")]
    [InlineData("train-search", "examples/serve-search-llama3-70b.yaml", "is a deployment search (it has a search block): run clustertwin serve-search")]
    [InlineData("plan", "validation/cases/korthikanti-a100-22B-full.yaml", "is a validation case (it has measured and scenario blocks): clustertwin simulate")]
    [InlineData("serve", "validation/cases/neuron-inf2-infer-llama-3-70b-bs1-2048-2048.yaml", "is a serving validation case (it has measured and scenario blocks, the scenario a serving one): validate --cases")]
    public void AFileGivenToAnotherKindsCommand_IsSaidToBeWhatItIs_WithTheCommandThatReadsIt(string command, string file, string message)
    {
        var outcome = CliRunner.Run(command, Repository.Path(file.Split('/')));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("unknown field", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void OneBadChipFigure_IsOneError_AndTheSystemThatNamesTheChip_NotTheSystemsPricesAndCurves()
    {
        var error = RefusedH100(find: "bandwidth: {value: 3.35 TB/s", replace: "bandwidth: {value: -3 TB/s");
        Assert.Collection(error.Diagnostics,
            first => Assert.Contains("'-3 TB/s' is negative (expected 1 Mb/s to 1 PB/s)", first.Message, StringComparison.Ordinal),
            second => Assert.Contains("chip 'nvidia-h100-sxm' could not be loaded", second.Message, StringComparison.Ordinal));
    }

    [Fact]
    public void APowerLimitGivenButRefused_IsNotAlsoCalledMissing()
    {
        var error = RefusedH100(find: "thermal_design: {value: 700 W", replace: "thermal_design: {value: 0 W");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "power.thermal_design.value" && diagnostic.Message.Contains("'0 W' is not positive", StringComparison.Ordinal));
        Assert.DoesNotContain(error.Diagnostics, diagnostic => diagnostic.Message.StartsWith("missing", StringComparison.Ordinal));
    }

    [Fact]
    public void AnErrorQuotingControlCharacters_ShowsThemEscaped_NotToTheTerminal()
    {
        var outcome = CliRunner.Run("catalog", "show", "\u001b[31mred");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("'\\u001B[31mred'", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain('\u001b', outcome.Errors);
    }

    [Fact]
    public void ADecimalComma_IsSaidToBeOne()
    {
        var error = RefusedH100(find: "thermal_design: {value: 700 W", replace: "thermal_design: {value: 699,5 W");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Message.Contains("a number's decimals take a point, not a comma", StringComparison.Ordinal));
    }

    [Fact]
    public void ALoneDash_IsSaidNotToBeStandardInput()
    {
        var outcome = CliRunner.Run("simulate", "-");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("ClusterTwin reads scenario and case files, not standard input", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ComparingASearchThatFindsNoLayout_SaysWhyAsPlanDoes_AndExitsWithOne()
    {
        using var folder = new TemporaryFolder();
        var file = folder.Write("nofit.yaml", "cluster: {system: nvidia-dgx-h100, chips: 8}\nmodel: llama3-405b\ntraining: {sequence_length: 8192, global_batch: 8, precision: bf16}\n");
        var outcome = CliRunner.Run("compare", "--search", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), file, "--json");
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("no layout both divides and fits: of ", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("do not fit in memory", outcome.Output, StringComparison.Ordinal);
    }
}
