using ClusterTwin.Cli;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public sealed class OutputWidthTests
{
    [Theory]
    [InlineData(null, false, null)]                  // a terminal: its own width
    [InlineData(null, true, OutputWidth.Redirected)] // a file or a pipe: wide enough for the layout tables
    [InlineData("120", false, 120)]                  // COLUMNS wins either way
    [InlineData("120", true, 120)]
    [InlineData("40", true, 40)]
    [InlineData("1000", false, 1000)]
    [InlineData("39", true, OutputWidth.Redirected)] // out of range, empty or not a number: ignored
    [InlineData("1001", false, null)]
    [InlineData("", true, OutputWidth.Redirected)]
    [InlineData("wide", false, null)]
    [InlineData("-100", true, OutputWidth.Redirected)]
    [InlineData(" 90", false, null)]
    public void TheWidth_FollowsColumns_ThenWhetherOutputIsRedirected(string? columns, bool redirected, int? expected) =>
        Assert.Equal(expected, OutputWidth.Of(columns, redirected));

    [Fact]
    public void Apply_SetsTheConsolesWidth_OnlyWhereThereIsOneToSet()
    {
        var console = Spectre.Console.AnsiConsole.Create(new Spectre.Console.AnsiConsoleSettings { Out = new Spectre.Console.AnsiConsoleOutput(new StringWriter()) });
        console.Profile.Width = 77;
        Assert.Equal(77, OutputWidth.Apply(console, null, redirected: false).Profile.Width);
        Assert.Equal(OutputWidth.Redirected, OutputWidth.Apply(console, null, redirected: true).Profile.Width);
        Assert.Equal(132, OutputWidth.Apply(console, "132", redirected: true).Profile.Width);
    }

    [Fact]
    public void ALayoutTable_KeepsEachNumberOnOneLine_AtTheRedirectedWidth()
    {
        // At Spectre.Console's 80 columns, the search's table broke step times across two lines ("35.6" over "3 s").
        var outcome = CliRunner.Run(OutputWidth.Redirected, "plan", Repository.Path("examples", "plan-gpt3-175b-h100-1024.yaml"), "--top", "3");
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.Output.Split('\n').Where(line => line.StartsWith("│ 1 │", StringComparison.Ordinal)).ToArray();
        Assert.Equal(2, rows.Length);
        Assert.Matches(@"│ +\d+(\.\d+)? s │", rows[0]);
        Assert.All(outcome.Output.Split('\n'), line => Assert.True(line.TrimEnd('\r').Length <= OutputWidth.Redirected, line));
    }
}
