using System.Text.Json;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class ClaimsCommandTests
{
    /// <summary>
    /// One run (each runs twelve plan searches) checks the JSON, the charts and the generated page together.
    /// </summary>
    [Fact]
    public void OneRun_GivesTheJson_TheChartsAndTheCurrentPage()
    {
        using var folder = new TemporaryFolder();
        var page = Path.Combine(folder.Path, "claims.md");
        var charts = Path.Combine(folder.Path, "charts");
        var outcome = CliRunner.Run("claims", "--json", "--markdown", page, "--plot", charts);
        Assert.Equal(0, outcome.ExitCode);

        using var document = JsonDocument.Parse(outcome.Output);
        var claims = document.RootElement.GetProperty("claims");
        var first = claims.EnumerateArray().Single(claim => claim.GetProperty("id").GetString() == "C1");
        Assert.Equal(4.4, first.GetProperty("published").GetDouble());
        Assert.Equal(144 * 2517.0 / (64 * 1299.0), first.GetProperty("specRatio").GetDouble(), 1e-6);
        Assert.Equal("peak-fp8", first.GetProperty("metric").GetString());
        foreach (var workload in document.RootElement.GetProperty("workloads").EnumerateArray())
        {
            Assert.Equal(4, workload.GetProperty("runs").GetArrayLength());
            foreach (var run in workload.GetProperty("runs").EnumerateArray())
            {
                Assert.True(run.GetProperty("valid").GetBoolean(), $"{workload.GetProperty("name")} on {run.GetProperty("system")}");
                Assert.True(run.GetProperty("joulesPerToken").GetDouble() > 0);
                // Each system runs on its vendor's framework: compiled Neuron graphs on Trainium, Megatron-Core on NVIDIA.
                var system = run.GetProperty("system").GetString()!;
                Assert.Equal(system.StartsWith("aws-", StringComparison.Ordinal) ? "neuronx-distributed" : "megatron-core", run.GetProperty("framework").GetString());
            }

            var ratio = workload.GetProperty("ratios")[0];
            Assert.Equal("aws-trn3-gen2-ultraserver", ratio.GetProperty("subject").GetString());
            Assert.Equal("aws-trn2-ultraserver", ratio.GetProperty("baseline").GetString());
            var speedUp = ratio.GetProperty("speedUp");
            Assert.True(speedUp.GetProperty("low").GetDouble() <= speedUp.GetProperty("value").GetDouble());
            Assert.True(speedUp.GetProperty("value").GetDouble() <= speedUp.GetProperty("high").GetDouble());
        }

        var files = Directory.GetFiles(charts).Select(Path.GetFileName).ToArray();
        Assert.Equal(8, files.Length);
        Assert.Contains("claims-spec-ratios.png", files);
        Assert.Contains("workloads-joules-per-token.svg", files);

        Assert.True(File.ReadAllText(Repository.Path("docs", "claims.md")).ReplaceLineEndings("\n") == File.ReadAllText(page).ReplaceLineEndings("\n"),
            "docs/claims.md is stale: regenerate it with ./clustertwin claims --markdown docs/claims.md --plot docs/claims");
    }

    [Theory]
    [InlineData("  - id: C2\n", "  - id: C1\n", "claims[C1].id: 'C1' is also an earlier claim's id")]
    [InlineData("published: 4.4", "published: 0", "claims[C1].published: 0 is out of range (expected 0.001 to 1e6)")]
    [InlineData("  chips: 576", "  chips: 577", "comparison.chips: 577 chips is not a whole number of aws-trn2-ultraserver's 64-chip systems")]
    [InlineData("baseline: aws-trn2-ultraserver\n    note: \"AWS launch", "baseline: aws-trn3-gen2-ultraserver\n    note: \"AWS launch", "claims[C1].baseline: 'aws-trn3-gen2-ultraserver' is also the subject")]
    public void AClaimThatCannotBeCompared_IsAnError_NamingIt(string find, string replace, string message)
    {
        using var folder = new TemporaryFolder();
        var workloads = Path.Combine(folder.Path, "workloads");
        Directory.CreateDirectory(workloads);
        foreach (var file in Directory.GetFiles(Repository.Path("claims", "workloads")))
        {
            File.Copy(file, Path.Combine(workloads, Path.GetFileName(file)));
        }

        var text = File.ReadAllText(Repository.Path("claims", "aws-trainium.yaml"));
        Assert.Contains(find, text, StringComparison.Ordinal);
        var outcome = CliRunner.Run("claims", folder.Write("claims.yaml", text.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingClaimsFile_IsAClearError()
    {
        var outcome = CliRunner.Run("claims", "no-such-claims.yaml");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("claims file not found", outcome.Errors, StringComparison.Ordinal);
    }
}
