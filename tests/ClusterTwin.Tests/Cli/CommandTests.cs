using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class CommandTests
{
    [Theory]
    [InlineData("examples/gpt3-175b-h100-1024.yaml")]
    [InlineData("examples/llama3-70b-trn2-ultraserver.yaml")]
    [InlineData("examples/llama3-405b-trainium3-1m.yaml")]
    public void Simulate_Example_PrintsTheReport(string example)
    {
        var outcome = CliRunner.Run("simulate", Repository.Path(example));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(string.Empty, outcome.Errors);
        Assert.Contains("Step time breakdown", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("MFU (Megatron's count: full attention)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("MFU, causal attention (NeMo's count)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("fits", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void SimulateJson_HasTheDocumentedFields_AndTheyAgree()
    {
        var outcome = CliRunner.Run("simulate", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"), "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var root = document.RootElement;
        var step = root.GetProperty("stepTimeSeconds").GetDouble();
        var breakdown = root.GetProperty("breakdown").EnumerateObject().Sum(part => part.Value.GetDouble());
        Within.Relative(step, breakdown, 1e-9);
        Within.Relative(1536 * 2048 / step, root.GetProperty("tokensPerSecond").GetDouble(), 1e-9);
        Assert.InRange(root.GetProperty("mfu").GetDouble(), 0.01, 1);
        Assert.InRange(root.GetProperty("mfuCausal").GetDouble(), 0.01, root.GetProperty("mfu").GetDouble());
        Assert.True(root.GetProperty("fits").GetBoolean());
        Assert.True(root.GetProperty("memoryPerChipBytes").GetDouble() < root.GetProperty("memoryCapacityBytes").GetDouble());
        Assert.Equal(1024, root.GetProperty("cluster").GetProperty("chips").GetInt64());
        Assert.True(root.GetProperty("timeToTrainSeconds").GetDouble() > 0);
    }

    [Fact]
    public void SimulateJson_IsIdenticalAcrossRuns()
    {
        var first = CliRunner.Run("simulate", Repository.Path("examples", "llama3-405b-trainium3-1m.yaml"), "--json").Output;
        var second = CliRunner.Run("simulate", Repository.Path("examples", "llama3-405b-trainium3-1m.yaml"), "--json").Output;
        Assert.Equal(first, second);
    }

    [Fact]
    public void CatalogList_NamesEveryKind()
    {
        var outcome = CliRunner.Run("catalog", "list");
        Assert.Equal(0, outcome.ExitCode);
        foreach (var id in new[] { "aws-trainium3", "aws-trn3-gen2-ultraserver", "aws-efa-ultracluster", "llama3-405b", "Training frameworks", "pytorch-fsdp", "Serving frameworks", "vllm-0.6" })
        {
            Assert.Contains(id, outcome.Output, StringComparison.Ordinal);
        }

        // An FP8 peak no faster than BF16's says so, where a bare figure read as FP8 support.
        var rows = outcome.Output.Split('\n');
        Assert.Contains("(no faster than BF16)", rows.Single(row => row.StartsWith("│ google-tpu-v5p ", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.DoesNotContain("(no faster than BF16)", rows.Single(row => row.StartsWith("│ nvidia-h100-sxm ", StringComparison.Ordinal)), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("aws-trainium4", "projection")]
    [InlineData("aws-trn3-gen2-ultraserver", "2 TiB/s (unstated)")]
    [InlineData("aws-efa-ultracluster", "estimate")]
    [InlineData("llama3-405b", "405.86B")]
    [InlineData("megatron-core", "realizes 43.0% of the ideal")]
    [InlineData("pytorch-fsdp", "FP32 shard only")]
    [InlineData("pytorch-fsdp", "BF16")]
    [InlineData("pytorch-fsdp", "x the kernels' time; 43 figures of 43 runs")]
    [InlineData("megatron-core", "none (its kernels cost the same with or without recompute)")]
    [InlineData("neuronx-distributed", "does not overlap expert communication")]
    [InlineData("megatron-core", "4.50x the fused kernels' time")]
    [InlineData("pytorch-fsdp", "not measured (a scenario without fused permutation is invalid)")]
    [InlineData("transformers-neuronx", "clustertwin calibrate-serving")]
    public void CatalogShow_ShowsTheFigureAndItsProvenance(string id, string expected)
    {
        var outcome = CliRunner.Run("catalog", "show", id);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains(expected, outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateJson_ReportsEveryCase()
    {
        var outcome = CliRunner.Run("validate", "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var cases = document.RootElement.GetProperty("cases").GetArrayLength();
        var serving = document.RootElement.GetProperty("serving");
        var servingIds = serving.GetProperty("cases").EnumerateArray().Select(item => item.GetProperty("id").GetString()).Distinct().Count();
        Assert.Equal(Directory.GetFiles(Repository.Path("validation", "cases"), "*.yaml").Length, cases + servingIds);
        Assert.Equal(cases, document.RootElement.GetProperty("summary").GetProperty("count").GetInt32());
        Assert.Equal(serving.GetProperty("cases").GetArrayLength(), serving.GetProperty("summary").GetProperty("count").GetInt32());

        // Every serving figure carries its held-out prediction, summarized beside the fitted error.
        Assert.All(serving.GetProperty("cases").EnumerateArray(), item => Assert.Equal(JsonValueKind.Number, item.GetProperty("heldOutErrorPercent").ValueKind));
        Assert.Equal(serving.GetProperty("summary").GetProperty("count").GetInt32(), serving.GetProperty("summary").GetProperty("heldOutCount").GetInt32());
    }

    [Fact]
    public void CalibrateServing_RewritesItsBlocksInPlace_AndTheCatalogueHoldsItsOutput()
    {
        // Refitting vLLM in a copy of the catalogue replaces its constants, its fit and its held-out constants (no
        // second held_out_constants block) and gives back the file in the repository: the catalogue is the fit's output.
        // The command reads the cases beside the catalogue (../validation/cases): both are copied.
        using var repository = new TemporaryFolder();
        foreach (var folder in new[] { "catalog", Path.Combine("validation", "cases") })
        {
            foreach (var file in Directory.GetFiles(Repository.Path(folder), "*.yaml", SearchOption.AllDirectories))
            {
                repository.Write(Path.GetRelativePath(Repository.Root, file), File.ReadAllText(file));
            }
        }

        var outcome = CliRunner.Run("calibrate-serving", "--framework", "vllm-0.6", "--catalog", Path.Combine(repository.Path, "catalog"));
        Assert.Equal(0, outcome.ExitCode);
        var written = File.ReadAllText(Path.Combine(repository.Path, "catalog", "frameworks", "vllm-0.6.yaml")).ReplaceLineEndings("\n");
        Assert.Single(written.Split('\n'), line => line.StartsWith("held_out_constants:", StringComparison.Ordinal));
        Assert.Equal(File.ReadAllText(Repository.Path("catalog", "frameworks", "vllm-0.6.yaml")).ReplaceLineEndings("\n"), written);
    }

    [Fact]
    public void CalibrateFramework_FitsTheSlowdownWithoutRecompute_OnEachChipFamilyAloneToo()
    {
        var outcome = CliRunner.Run("calibrate", "--framework", "pytorch-fsdp", "--dry-run");
        Assert.Equal(0, outcome.ExitCode);
        var slowdown = Repository.Catalog.TrainingFrameworks["pytorch-fsdp"].NoRecomputeSlowdown!.Value.ToString("0.000", System.Globalization.CultureInfo.InvariantCulture);
        Assert.Contains($"pytorch-fsdp: kernels {slowdown}x slower without full recompute", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("nvidia-ampere", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("nvidia-hopper", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrateFramework_WithNothingToFit_SaysWhy()
    {
        var outcome = CliRunner.Run("calibrate", "--framework", "maxtext", "--dry-run");
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("no mixture-of-experts validation case runs on maxtext", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("no_recompute_slowdown", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrateTokenRouting_ReportsEachShape_AndTheFactorTheCatalogueHolds()
    {
        var outcome = CliRunner.Run("calibrate", "--token-routing", Repository.Path("measurements", "nvidia-h200-sxm-moe-routing-2026-11-27.json"), "--chip", "nvidia-h200-sxm", "--framework", "megatron-core", "--dry-run");
        Assert.Equal(0, outcome.ExitCode);
        var factor = Repository.Catalog.TrainingFrameworks["megatron-core"].UnfusedTokenRouting!.Value.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture);
        var output = System.Text.RegularExpressions.Regex.Replace(outcome.Output, @"\s+", " ");
        Assert.Contains($"megatron-core: unfused token routing {factor}x the fused kernels' traffic (median of the bf16 router's shapes), banded by 3.94x to 6.61x", output, StringComparison.Ordinal);
        Assert.Contains("mixtral-8x7b", outcome.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--framework", "--token-routing writes to the framework whose unfused path was timed")]
    [InlineData("--chip", "--token-routing needs the chip the timings were measured on")]
    public void CalibrateTokenRouting_WithoutTheFrameworkOrTheChip_SaysWhichIsMissing(string missing, string message)
    {
        string[] arguments = ["calibrate", "--token-routing", Repository.Path("measurements", "nvidia-h200-sxm-moe-routing-2026-11-27.json"), "--dry-run",
            .. missing == "--framework" ? ["--chip", "nvidia-h200-sxm"] : new[] { "--framework", "megatron-core" }];
        var outcome = CliRunner.Run(arguments);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains($"{missing}: missing: {message}", outcome.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("maxtext")]
    [InlineData("neuronx-distributed")]
    public void CalibrateTokenRouting_IntoAFrameworkThatDoesNotRunThatPath_IsRefused(string framework)
    {
        using var catalog = TemporaryFolder.WithCatalogCopy();
        var outcome = CliRunner.Run("calibrate", "--catalog", catalog.Path, "--token-routing", Repository.Path("measurements", "nvidia-h200-sxm-moe-routing-2026-11-27.json"), "--chip", "nvidia-h200-sxm", "--framework", framework);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains($"--framework: '{framework}' launches no expert kernels from the host", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("(expected a framework that does: megatron-core)", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("unfused_token_routing", File.ReadAllText(Path.Combine(catalog.Path, "training-frameworks", framework + ".yaml")), StringComparison.Ordinal);
    }

    [Fact]
    public void Simulate_OfARunWithoutFusedPermutation_SaysSoInItsFrameworkLine()
    {
        var outcome = CliRunner.Run("simulate", Repository.Path("validation", "supplementary", "nemo-2.0", "nemo2504-gb200-mixtral-8x7b-64gpu-fp8.yaml"));
        Assert.Equal(0, outcome.ExitCode);
        var output = System.Text.RegularExpressions.Regex.Replace(outcome.Output, @"\s+", " ");
        Assert.Contains("tokens permuted without fused kernels (4.5x the fused kernels' time, measured)", output, StringComparison.Ordinal);
        Assert.Contains("unfused token routing 6.61x (the router in FP32)", output, StringComparison.Ordinal);
    }

    [Fact]
    public void CalibrateTokenRouting_WithKernelTimingsToo_IsRefused_NotIgnored()
    {
        var routing = Repository.Path("measurements", "nvidia-h200-sxm-moe-routing-2026-11-27.json");
        var outcome = CliRunner.Run("calibrate", "--kernels", Repository.Path("measurements", "nvidia-h200-sxm-2026-11-26.json"), "--token-routing", routing, "--chip", "nvidia-h200-sxm", "--framework", "megatron-core", "--dry-run");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--token-routing: derives a framework's unfused routing cost from its own timings: give it without --kernels and --head-sizes", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidateMarkdown_OfAnotherFolder_NamesTheCommandThatWroteIt()
    {
        using var folder = new TemporaryFolder();
        var page = Path.Combine(folder.Path, "page.md");
        var outcome = CliRunner.Run("validate", "--cases", Repository.Path("validation", "supplementary", "llm-foundry"), "--markdown", page);
        Assert.Equal(0, outcome.ExitCode);
        var text = File.ReadAllText(page);
        Assert.Contains("--cases " + Repository.Path("validation", "supplementary", "llm-foundry").Replace('\\', '/'), text, StringComparison.Ordinal);
        Assert.DoesNotContain("The 0 cases", text, StringComparison.Ordinal);
    }
}
