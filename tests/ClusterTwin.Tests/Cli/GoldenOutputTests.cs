using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>
/// What users read, pinned to files under <c>Golden/</c>. A change to a report or to a prediction shows up here as
/// a diff to review. After an intended change, refresh with
/// <c>CLUSTERTWIN_UPDATE_GOLDEN=1 dotnet test --filter GoldenOutputTests</c> and commit the files.
/// </summary>
public class GoldenOutputTests
{
    [Theory]
    [InlineData("simulate-gpt3-175b-h100-1024.txt", "simulate", "examples/gpt3-175b-h100-1024.yaml")]
    [InlineData("simulate-llama3-405b-trainium3-1m.json", "simulate", "examples/llama3-405b-trainium3-1m.yaml", "--json")]
    [InlineData("catalog-show-aws-trainium3.txt", "catalog", "show", "aws-trainium3")]
    [InlineData("plan-gpt3-175b-h100-1024.txt", "plan", "examples/plan-gpt3-175b-h100-1024.yaml")]
    public void Output_MatchesTheGoldenFile(string golden, params string[] args)
    {
        var arguments = args.Select(argument => argument.StartsWith("examples/", StringComparison.Ordinal) ? Repository.Path(argument) : argument).ToArray();
        var outcome = CliRunner.Run(arguments);
        Assert.Equal(0, outcome.ExitCode);
        var actual = outcome.Output.Replace(Repository.Root, "<repository>", StringComparison.Ordinal).ReplaceLineEndings("\n");

        // A search's wall-clock time is the one figure that changes from run to run.
        actual = System.Text.RegularExpressions.Regex.Replace(actual, "combinations in [0-9.]+ s", "combinations in <elapsed> s");
        var path = Path.Combine(Repository.Root, "tests", "ClusterTwin.Tests", "Golden", golden);
        if (Environment.GetEnvironmentVariable("CLUSTERTWIN_UPDATE_GOLDEN") == "1")
        {
            File.WriteAllText(path, actual);
        }

        Assert.True(File.Exists(path), $"no golden file {path}; create it with CLUSTERTWIN_UPDATE_GOLDEN=1");
        Assert.Equal(File.ReadAllText(path).ReplaceLineEndings("\n"), actual);
    }

    [Fact]
    public void ValidationPage_IsCurrent() =>
        AssertPageIsCurrent("validation.md", "./clustertwin validate --markdown docs/validation.md", "validate", "--markdown");

    [Fact]
    public void LayoutComparisonPage_IsCurrent()
    {
        // The searches the layout tests share, rendered as the command renders them (the command itself is run on
        // two cases in CompareLayouts_RunsTheCasesItIsGiven).
        var page = ClusterTwin.Cli.Reports.LayoutComparisonReport.Markdown(PublishedLayouts.All);
        Assert.True(File.ReadAllText(Repository.Path("docs", "layouts-vs-published.md")).ReplaceLineEndings("\n") == page.ReplaceLineEndings("\n"),
            "docs/layouts-vs-published.md is stale: regenerate it with ./clustertwin compare-layouts --markdown docs/layouts-vs-published.md");
    }

    [Fact]
    public void CompareLayouts_RunsTheCasesItIsGiven()
    {
        using var folder = new TemporaryFolder();
        string[] ids = ["korthikanti-a100-22B-full", "nemo2407-h100-llama3-8b-8gpu"];
        foreach (var id in ids)
        {
            File.Copy(Repository.Path("validation", "cases", id + ".yaml"), Path.Combine(folder.Path, id + ".yaml"));
        }

        var outcome = CliRunner.Run("compare-layouts", "--cases", folder.Path, "--json");
        Assert.Equal(0, outcome.ExitCode);
        var page = Path.Combine(folder.Path, "page.md");
        Assert.Equal(0, CliRunner.Run("compare-layouts", "--cases", folder.Path, "--markdown", page).ExitCode);
        foreach (var id in ids)
        {
            Assert.Contains($"\"{id}\"", outcome.Output, StringComparison.Ordinal);
            Assert.Contains($"| {id} |", File.ReadAllText(page), StringComparison.Ordinal);
        }
    }

    [Fact]
    public void ServingComparisonPage_IsCurrent() =>
        AssertPageIsCurrent("serving-comparison.md", "./clustertwin serve-search examples/serve-search-llama3-70b.yaml --markdown docs/serving-comparison.md",
            "serve-search", Repository.Path("examples", "serve-search-llama3-70b.yaml"), "--markdown");

    [Fact]
    public void MixtureOfExpertsFabricPage_IsCurrent()
    {
        string[] scenarios = ["qwen3-235b-trn2-ultraserver", "qwen3-235b-trn3-ultraserver", "qwen3-235b-gb200-nvl72"];
        AssertPageIsCurrent("moe-fabrics.md", "the command at the top of docs/moe-fabrics.md",
            ["compare", "--search", .. scenarios.Select(name => Repository.Path("examples", "compare-moe", name + ".yaml")), "--title", "Qwen3-235B-A22B on three scale-up fabrics at 64 chips", "--markdown"]);
    }

    [Fact]
    public void ContextExchangePage_IsCurrent()
    {
        string[] scenarios = ["llama2-7b-128k-ring", "llama2-7b-128k-all-gather", "llama2-7b-128k-all-to-all", "llama3-8b-128k-ring", "llama3-8b-128k-all-gather", "llama3-8b-128k-all-to-all"];
        AssertPageIsCurrent("context-exchanges.md", "the command at the top of docs/context-exchanges.md",
            ["compare", .. scenarios.Select(name => Repository.Path("examples", "compare-context", name + ".yaml")), "--title", "Three context-parallel exchanges at 128K tokens on 8 H100, with multi-head and grouped-query attention", "--markdown"]);
    }

    /// <summary>Runs the command that generates docs/<paramref name="name"/> (its arguments end with the output option) and compares.</summary>
    private static void AssertPageIsCurrent(string name, string regenerate, params string[] arguments)
    {
        using var folder = new TemporaryFolder();
        var page = Path.Combine(folder.Path, name);
        var outcome = CliRunner.Run([.. arguments, page]);
        Assert.Equal(0, outcome.ExitCode);
        Assert.True(File.ReadAllText(Repository.Path("docs", name)).ReplaceLineEndings("\n") == File.ReadAllText(page).ReplaceLineEndings("\n"),
            $"docs/{name} is stale: regenerate it with {regenerate}");
    }
}
