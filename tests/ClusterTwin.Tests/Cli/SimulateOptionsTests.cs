using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary><c>simulate --kernels</c>, and <c>simulate</c> of a validation case file.</summary>
public sealed class SimulateOptionsTests
{
    private static readonly string Example = Repository.Path("examples", "gpt3-175b-h100-1024.yaml");

    [Fact]
    public void Kernels_PrintsEachLayersOperators_AndAddsThemToTheJson()
    {
        var text = CliRunner.Run("simulate", Example, "--kernels");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("dense layer (96 in the model): one micro-batch on the busiest chip", text.Output, StringComparison.Ordinal);
        Assert.Contains("attention (fused)", text.Output, StringComparison.Ordinal);

        using var json = JsonDocument.Parse(CliRunner.Run("simulate", Example, "--kernels", "--json").Output);
        var layer = Assert.Single(json.RootElement.GetProperty("layers").EnumerateArray().ToArray(), item => item.GetProperty("layer").GetString() == "dense layer");
        Assert.Equal(96, layer.GetProperty("count").GetInt32());
        var first = layer.GetProperty("operators")[0];
        foreach (var field in new[] { "name", "kind", "runs", "flops", "bytes", "forwardSeconds", "backwardSeconds", "hostWaitSeconds", "bound", "recomputed" })
        {
            Assert.True(first.TryGetProperty(field, out _), field);
        }

        using var plain = JsonDocument.Parse(CliRunner.Run("simulate", Example, "--json").Output);
        Assert.False(plain.RootElement.TryGetProperty("layers", out _));
        Assert.False(plain.RootElement.TryGetProperty("validation", out _));
    }

    [Fact]
    public void ACaseFile_IsSimulated_WithItsMeasurementBesideThePrediction_AsValidateComparesThem()
    {
        const string Id = "mpt-a100-7b-seq2048-8gpu";
        var file = Repository.Path("validation", "cases", Id + ".yaml");
        var text = CliRunner.Run("simulate", file);
        Assert.Equal(0, text.ExitCode);
        Assert.Contains($"Published run {Id}", text.Output, StringComparison.Ordinal);
        Assert.Contains("tokens per second per chip", text.Output, StringComparison.Ordinal);

        using var simulated = JsonDocument.Parse(CliRunner.Run("simulate", file, "--json").Output);
        var comparison = simulated.RootElement.GetProperty("validation");
        Assert.Equal(Id, comparison.GetProperty("id").GetString());
        Assert.Equal(comparison.GetProperty("predicted").GetDouble(), simulated.RootElement.GetProperty("tokensPerSecondPerChip").GetDouble(), 9);

        using var folder = new TemporaryFolder();
        folder.Write(Id + ".yaml", File.ReadAllText(file));
        using var validated = JsonDocument.Parse(CliRunner.Run("validate", "--cases", folder.Path, "--json").Output);
        var expected = Assert.Single(validated.RootElement.GetProperty("cases").EnumerateArray().ToArray());
        Assert.Equal(expected.GetProperty("errorPercent").GetDouble(), comparison.GetProperty("errorPercent").GetDouble(), 12);
        Assert.Equal(expected.GetProperty("withinBand").GetBoolean(), comparison.GetProperty("withinBand").GetBoolean());
    }

    [Fact]
    public void ACaseFileWithoutItsMeasurement_OrAServingCase_IsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("validation", "cases", "mpt-a100-7b-seq2048-8gpu.yaml"));
        var misspelled = CliRunner.Run("simulate", folder.Write("mpt-a100-7b-seq2048-8gpu.yaml", text.Replace("measured:", "measurd:", StringComparison.Ordinal)));
        Assert.Equal(2, misspelled.ExitCode);
        Assert.Contains("measurd: unknown field", misspelled.Errors, StringComparison.Ordinal);
        Assert.Contains("measured: missing", misspelled.Errors, StringComparison.Ordinal);

        var serving = CliRunner.Run("simulate", Repository.Path("validation", "cases", "neuron-inf2-infer-llama-3-70b-bs1-2048-2048.yaml"));
        Assert.Equal(2, serving.ExitCode);
        Assert.Contains("is a serving case", serving.Errors, StringComparison.Ordinal);
        Assert.Contains("simulate reads training cases", serving.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", misspelled.Errors + serving.Errors, StringComparison.Ordinal);
    }
}
