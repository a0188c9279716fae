using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>Every kind of bad input gets a clear message naming file, line and field, a non-zero exit, and no stack trace.</summary>
public class BadInputTests
{
    private const string Valid = SmallScenarios.Training;

    [Fact]
    public void ValidScenario_Runs()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("ok.yaml", Valid));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("Step time breakdown", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ASequencePastTheModelsPositions_IsAnError_ForLearnedPositions_AndAWarningOtherwise()
    {
        using var folder = new TemporaryFolder();
        var learned = CliRunner.Run("simulate", folder.Write("gpt.yaml", Valid.Replace("model: llama3-8b", "model: gpt3-175b", StringComparison.Ordinal)));
        Assert.Equal(2, learned.ExitCode);
        Assert.Contains("training.sequence_length: 4096 is longer than the 2048 learned positions of GPT-3 175B", learned.Errors, StringComparison.Ordinal);

        var rotary = CliRunner.Run("simulate", folder.Write("long.yaml", Valid.Replace("sequence_length: 4096", "sequence_length: 16384", StringComparison.Ordinal)), "--json");
        Assert.Equal(0, rotary.ExitCode);
        Assert.Contains("longer than the 8,192 tokens Llama 3 8B was trained with", rotary.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("simulate", "--bogus")]
    [InlineData("calibrate-serving", "--dry-rn")]
    public void UnknownOption_IsAnError_NotIgnored(string command, string option)
    {
        // A mistyped --dry-run must not let calibrate-serving rewrite the catalogue (a copy here, should it ever run).
        using var folder = TemporaryFolder.WithCatalogCopy();
        var outcome = command == "simulate" ? CliRunner.Run(command, folder.Write("ok.yaml", Valid), option) : CliRunner.Run(command, "--catalog", folder.Path, option);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains($"Unknown option '{option[2..]}'", outcome.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("system: nvidia-dgx-h100", "system: nvidia-dgx-h1000", "cluster.system", "unknown system 'nvidia-dgx-h1000'")]
    [InlineData("fabric: infiniband-ndr-fat-tree", "fabric: infiniband", "cluster.fabric", "unknown fabric 'infiniband'")]
    [InlineData("model: llama3-8b", "model: llama9", "model", "unknown model 'llama9'")]
    [InlineData("  sequence_length: 4096\n", "", "training.sequence_length", "missing")]
    [InlineData("sequence_length: 4096", "sequence_length: 4k tokens", "training.sequence_length", "not a whole number")]
    [InlineData("global_batch: 64", "global_batch: -64", "training.global_batch", "out of range")]
    [InlineData("count: 2", "count: 0", "cluster.count", "out of range")]
    [InlineData("count: 2", "count: 1000000000000", "cluster.count", "out of range")]
    [InlineData("count: 2", "count: 1e400", "cluster.count", "1e400 is out of range (expected 1 to")]
    [InlineData("name: small", "name: \"a\\e[31mred\"", "name", "holds the character U+001B, which a terminal would act on rather than show")]
    [InlineData("name: small", "name: \"over\\rwritten\"", "name", "holds the character U+000D")]
    [InlineData("name: small", "name: \"a\\u202Ereversed\"", "name", "holds the character U+202E")]
    [InlineData("count: 2", "count: ''", "cluster.count", "not an empty value")]
    [InlineData("precision: bf16", "precision: bf16\n  tokens: 1e300T", "training.tokens", "1e300T is out of range (expected 1 to 1e18)")]
    [InlineData("precision: bf16", "precision: bf16\n  framework: nope", "training.framework", "pytorch-fsdp, or none for kernels at their roofline)")]
    [InlineData("precision: bf16", "precision: int3", "training.precision", "is not one of")]
    [InlineData("precision: bf16", "precision: bf16\n  cuda_graphs: true", "training.cuda_graphs", "layers is whole layers, Megatron-Core's enable_cuda_graph")]
    [InlineData("precision: bf16", "precision: bf16\n  cuda_graphs: false", "training.cuda_graphs", "none is cuda_graphs: false")]
    [InlineData("tensor: 8", "tensr: 8", "plan.tensr", "unknown field")]
    [InlineData("pipeline: 1", "pipeline: 3", "plan.data", "does not divide the cluster's 16 chips")]
    [InlineData("count: 2", "chips: 4.5", "cluster.chips", "not a whole number")]
    [InlineData("count: 2", "count: 2\n  chips: 16", "cluster.count", "either count (systems) or chips, not both")]
    public void BadScenario_IsReportedWithFieldAndReason(string find, string replace, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var file = folder.Write("bad.yaml", Valid.Replace(find, replace, StringComparison.Ordinal));
        var outcome = CliRunner.Run("simulate", file);
        Assert.NotEqual(0, outcome.ExitCode);
        Reported.AtField(outcome, "bad.yaml", field, reason);
    }

    [Fact]
    public void PlanThatDoesNotDivide_IsAResult_WithEveryReason_AndExitsNonZero()
    {
        using var folder = new TemporaryFolder();
        var file = folder.Write("indivisible.yaml", Valid
            .Replace("pipeline: 1", "pipeline: 2\n  virtual_stages: 3", StringComparison.Ordinal)
            .Replace("micro_batch: 1", "micro_batch: 2", StringComparison.Ordinal)
            .Replace("global_batch: 64", "global_batch: 3", StringComparison.Ordinal));
        var outcome = CliRunner.Run("simulate", file);
        Assert.Equal(1, outcome.ExitCode);
        var text = System.Text.RegularExpressions.Regex.Replace(outcome.Output, @"\s+", " ");
        Assert.Contains("The plan in ", text, StringComparison.Ordinal);
        Assert.Contains("indivisible.yaml is invalid", text, StringComparison.Ordinal);
        Assert.Contains("global batch of 3 sequences", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("virtual stages 3 do not split pipeline 2", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("plan")]
    [InlineData("simulate")]
    public void ThePlanBlocksOneDegree_ThatDoesNotDivideTheChips_IsNamed_WithDivisorsThatWould(string command)
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("tensor3.yaml", Valid.Replace("  tensor: 8\n  pipeline: 1\n", "  tensor: 3\n", StringComparison.Ordinal));
        var outcome = CliRunner.Run(command, path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("plan.tensor: tensor 3 does not divide the cluster's 16 chips (expected a divisor of 16, such as 1, 2, 4, 8, 16)", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void APlanSearchTooLargeToRun_IsBadInput_NamingWhatToPin()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("plan", folder.Write("huge.yaml", ClusterTwin.Tests.Planning.PlanSearchTests.HugeSpaceScenario), "--top", "1");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("huge.yaml: the search space holds more than 10,000,000 layouts", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("pin the widest dimensions in the scenario's plan block (plan.micro_batch, plan.expert, plan.pipeline)", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void PowerFiguresThatContradictEachOther_InTheCatalogue_AreReported()
    {
        var outcome = CatalogListAfter(
            ("chips/nvidia-h100-sxm.yaml", text => text.Replace("thermal_design: {value: 700 W", "thermal_design: {value: 50 W", StringComparison.Ordinal)),
            ("systems/nvidia-dgx-h100.yaml", text => System.Text.RegularExpressions.Regex.Replace(text, @"system_maximum: \{value: [0-9.,]+ kW", "system_maximum: {value: 1 W")));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("power.idle: the top of its range, 145 W, is not below the thermal design power, 50 W", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("power.system_maximum: 1 W is not above the host's own", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ARentalInstanceThatDoesNotDivideItsSystem_IsRefused()
    {
        // Each system rents its own whole instances, so an instance of 3 GPUs on an 8-GPU server would be billed 9.
        var outcome = CatalogListAfter(("prices/cloud.yaml", text => text.Replace("    item: p5.48xlarge\n    chips: 8", "    item: p5.48xlarge\n    chips: 3", StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("chips: an instance of 3 chips does not divide one NVIDIA DGX H100 / HGX H100 8-GPU of 8 chips", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AFabricWithAnEmptyListOfTiers_IsSaidToBeEmpty_NotMissing()
    {
        static string EmptyTiers(string text)
        {
            var start = text.IndexOf("\ntiers:", StringComparison.Ordinal);
            var end = text.IndexOf('\n', start + 7);
            var rest = text[(end + 1)..].Split('\n').SkipWhile(line => line.StartsWith(' ') || line.StartsWith('-')).ToArray();
            return text[..start] + "\ntiers: []\n" + string.Join('\n', rest);
        }

        var outcome = CatalogListAfter(("fabrics/infiniband-ndr-fat-tree.yaml", EmptyTiers));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("tiers: empty (expected a list of switch tiers from the leaf up)", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ValueWithoutUnit_InTheCatalogue_IsReported()
    {
        var outcome = CatalogListAfter(("chips/nvidia-h100-sxm.yaml", text => text.Replace("3.35 TB/s", "3.35", StringComparison.Ordinal).Replace("700 W", "700 TB/s", StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("memory.bandwidth.value: '3.35' has no unit", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("power.thermal_design.value: 'TB/s' is not a unit of power", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void EveryProblemOfACatalogueFile_IsReportedTogether()
    {
        var outcome = CatalogListAfter(
            ("efficiency/nvidia-hopper.yaml", text => text + "scale_up_collective: {1 MB: 0.5}\n"),
            ("models/qwen3-235b-a22b.yaml", text => text
                .Replace("key_value_heads: 4", "key_value_heads: 5", StringComparison.Ordinal)
                .Replace("experts_per_token: 8", "experts_per_token: 800", StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("carried_over_from: the family writes all four curves, so nothing is carried over", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("key_value_heads: 5 key-value heads do not divide the 64 attention heads", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("800 experts per token is more than the 128 experts", outcome.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("attention_heads: 7", "attention_heads: 7 heads do not divide the hidden size 1000")]
    [InlineData("parameters: 70B", "parameters: the shape gives")]
    [InlineData("position_embedding: learned", "max_sequence_length: missing")]
    public void InlineModel_WithAnInconsistentShape_IsReported(string line, string expected)
    {
        var model = """
              id: custom
              layers: 8
              hidden_size: 1000
              attention_heads: 8
              feed_forward_size: 4000
              feed_forward_activation: gelu
              vocabulary_size: 32000
            """;
        var broken = line.StartsWith("attention_heads", StringComparison.Ordinal)
            ? model.Replace("attention_heads: 8", line, StringComparison.Ordinal)
            : model + "\n  " + line;
        using var folder = new TemporaryFolder();
        var scenario = Valid.Replace("model: llama3-8b", "model:\n" + broken.Replace("\\n", "\n", StringComparison.Ordinal), StringComparison.Ordinal)
            .Replace("tensor: 8", "tensor: 1", StringComparison.Ordinal);
        var outcome = CliRunner.Run("simulate", folder.Write("inline.yaml", scenario));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(expected, outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void PartOfARack_IsASmallerSwitchedSystem()
    {
        using var folder = new TemporaryFolder();
        var scenario = Valid.Replace("system: nvidia-dgx-h100\n  count: 2\n  fabric: infiniband-ndr-fat-tree", "system: nvidia-gb200-nvl72\n  chips: 8", StringComparison.Ordinal);
        var loaded = ClusterTwin.Catalog.ScenarioLoader.Load(folder.Write("part.yaml", scenario), Repository.Catalog);
        Assert.Equal(8, loaded.Cluster.ChipCount);
        Assert.Equal([8], loaded.Cluster.System.Topology.Shape.ToArray());
    }

    [Fact]
    public void PartOfATorus_IsRejected()
    {
        using var folder = new TemporaryFolder();
        var scenario = Valid.Replace("system: nvidia-dgx-h100\n  count: 2\n  fabric: infiniband-ndr-fat-tree", "system: aws-trn2-ultraserver\n  chips: 16", StringComparison.Ordinal);
        var outcome = CliRunner.Run("simulate", folder.Write("torus.yaml", scenario));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("part of a torus", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void FolderGivenAsScenario_IsReported()
    {
        var outcome = CliRunner.Run("simulate", Repository.Path("examples"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("is a folder", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void MissingScenarioFile_IsReported()
    {
        var outcome = CliRunner.Run("simulate", "no/such/file.yaml");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("no/such/file.yaml: scenario file not found", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownCatalogId_SuggestsCloseOnes()
    {
        var outcome = CliRunner.Run("catalog", "show", "trainium");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("did you mean aws-trainium1", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void UnknownCommand_IsReported_NotThrown()
    {
        var outcome = CliRunner.Run("simulat", "x.yaml");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.DoesNotContain("   at ", outcome.Errors + outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("name: x\ncluster: [unclosed\n")]
    [InlineData("scenario: [unclosed\nmeasured: {a: 1\n")]   // YamlDotNet throws InvalidOperationException on this one, not a YamlException
    public void InvalidYaml_IsReportedAsSuch_NotAsAnInternalError(string text)
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("broken.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("broken.yaml:", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("not valid YAML", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", outcome.Errors, StringComparison.Ordinal);
    }

    /// <summary>A validation case of the repository, rewritten by <paramref name="edit"/>, alone in a folder.</summary>
    private static string CaseFolder(TemporaryFolder folder, Func<string, string> edit)
    {
        var text = File.ReadAllText(Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"));
        return Path.GetDirectoryName(folder.Write("korthikanti-a100-22B-full.yaml", edit(text)))!;
    }

    [Fact]
    public void ValidatingYourOwnCases_WithACatalogueAwayFromTheRepository_NeedsNoRepositoryCases()
    {
        // The run is one the FSDP slowdown was fitted on; without the repository's cases to refit it, it simply has no
        // held-out prediction.
        using var catalog = TemporaryFolder.WithCatalogCopy();
        using var cases = new TemporaryFolder();
        const string id = "mpt-a100-7b-seq2048-8gpu";
        cases.Write(id + ".yaml", File.ReadAllText(Repository.Path("validation", "cases", id + ".yaml")));
        var outcome = CliRunner.Run("validate", "--catalog", catalog.Path, "--cases", cases.Path, "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = System.Text.Json.JsonDocument.Parse(outcome.Output);
        var item = Assert.Single(document.RootElement.GetProperty("cases").EnumerateArray());
        Assert.Equal(id, item.GetProperty("id").GetString());
        Assert.False(item.TryGetProperty("heldOutPredicted", out _));
    }

    [Fact]
    public void ACaseWhoseIdDiffersFromItsFileName_IsRefused()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"));
        folder.Write("renamed.yaml", text);
        var outcome = CliRunner.Run("validate", "--cases", folder.Path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("id: 'korthikanti-a100-22B-full' differs from the file name (expected 'renamed')", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ZeroMeasuredStepTime_IsReported_NotDividedBy()
    {
        using var folder = new TemporaryFolder();
        var cases = CaseFolder(folder, text => System.Text.RegularExpressions.Regex.Replace(text, "step_time: [0-9.]+ s", "step_time: 0 s"));
        var outcome = CliRunner.Run("validate", "--cases", cases, "--json");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("measured.step_time", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("expected a positive duration", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void BracketsInASourceKey_AreShownAsWritten()
    {
        using var folder = new TemporaryFolder();
        var cases = CaseFolder(folder, text => text.Replace("source_key: korthikanti-2022", "source_key: korthikanti[2022]", StringComparison.Ordinal));
        var outcome = CliRunner.Run("validate", "--cases", cases);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("korthikanti[2022]", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void MistypedHoldOut_IsRefused_BeforeAnythingIsFitted()
    {
        var outcome = CliRunner.Run("calibrate", "--family", "nvidia-ampere", "--hold-out", "korthikanti-2O22", "--dry-run");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("'korthikanti-2O22' is not a source of the nvidia-ampere family's cases", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("korthikanti-2022", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void CatalogueGivenWithATrailingSlash_FindsTheSameCases()
    {
        var catalog = Repository.Catalog;
        Assert.Equal(ClusterTwin.Cli.Commands.CatalogSettings.DefaultCasesFolder(catalog),
            ClusterTwin.Cli.Commands.CatalogSettings.DefaultCasesFolder(catalog with { Directory = catalog.Directory.TrimEnd('/') + "/" }));
    }

    /// <summary><c>catalog list</c> on a copy of the catalogue with each file (a path under it) rewritten by its edit.</summary>
    private static CliRunner.Outcome CatalogListAfter(params (string File, Func<string, string> Edit)[] edits)
    {
        using var catalog = TemporaryFolder.WithCatalogCopy();
        foreach (var (file, edit) in edits)
        {
            var path = Path.Combine(catalog.Path, file);
            File.WriteAllText(path, edit(File.ReadAllText(path)));
        }

        return CliRunner.Run("catalog", "list", "--catalog", catalog.Path);
    }
}
