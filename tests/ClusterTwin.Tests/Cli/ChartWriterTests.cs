using System.Collections.Immutable;
using System.Xml.Linq;
using ClusterTwin.Cli.Charts;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>Bar charts are written as PNG and SVG, with their text, the same bytes every time, and bad input refused.</summary>
public class ChartWriterTests
{
    private static readonly XNamespace Svg = "http://www.w3.org/2000/svg";

    private static BarChart Grouped() => new(
        "Predicted over measured step time",
        "ratio (predicted / measured)",
        ["llama3-8b on 8 H100", "llama3-70b on 64 H100", "mixtral-8x7b & friends <moe>"],
        [
            new BarSeries("analytical", [0.95, 1.08, 1.21]) { Low = [0.9, 1.0, 1.1], High = [1.0, 1.15, 1.3] },
            new BarSeries("calibrated", [1.01, 0.99, 1.05]) { Low = [0.98, 0.95, 1.0], High = [1.04, 1.03, 1.1] },
            new BarSeries("published", [1.1, 1.2, 0.9]),
        ])
    {
        ReferenceLine = 1.0,
        ReferenceLabel = "measured",
    };

    private static BarChart Logarithmic() => new(
        "Tokens per second per chip",
        "tokens/s",
        ["small", "medium", "large"],
        [new BarSeries("simulated", [120, 4500, 88000]) { Low = [100, 4000, 80000], High = [140, 5000, 95000] }])
    {
        LogarithmicScale = true,
        ReferenceLine = 3000,
        ReferenceLabel = "claim",
    };

    public static TheoryData<string> ChartNames => ["grouped", "logarithmic"];

    private static BarChart Named(string name) => name == "grouped" ? Grouped() : Logarithmic();

    [Theory]
    [MemberData(nameof(ChartNames))]
    public void Write_CreatesTheFolderAndNonEmptyPngAndSvg(string name)
    {
        using var folder = new TemporaryFolder();
        var directory = Path.Combine(folder.Path, "charts", "nested");

        var paths = ChartWriter.Write(Named(name), directory, name);

        Assert.Equal([Path.Combine(directory, name + ".png"), Path.Combine(directory, name + ".svg")], paths.ToArray());
        Assert.All(paths, path => Assert.True(new FileInfo(path).Length > 1000, $"{path} is missing or nearly empty"));
        byte[] signature = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.Equal(signature, File.ReadAllBytes(paths[0]).Take(signature.Length));
    }

    [Theory]
    [MemberData(nameof(ChartNames))]
    public void Svg_ParsesAndHoldsTheTitleAndEveryCategory(string name)
    {
        using var folder = new TemporaryFolder();
        var chart = Named(name);

        var svg = XDocument.Load(ChartWriter.Write(chart, folder.Path, name)[1]);

        Assert.Equal(Svg + "svg", svg.Root!.Name);
        var texts = svg.Descendants(Svg + "text").Select(text => text.Value.Trim()).ToList();
        Assert.Contains(chart.Title, texts);
        Assert.Contains(chart.ValueAxisLabel, texts);
        Assert.All(chart.Categories, category => Assert.Contains(category, texts));
        Assert.Contains(chart.ReferenceLabel!, texts);
    }

    [Fact]
    public void Svg_NamesTheLegendOnlyWhenThereIsMoreThanOneSeries()
    {
        using var folder = new TemporaryFolder();

        var grouped = SvgTexts(ChartWriter.Write(Grouped(), folder.Path, "grouped")[1]);
        var single = SvgTexts(ChartWriter.Write(Logarithmic(), folder.Path, "single")[1]);

        Assert.All(Grouped().Series, series => Assert.Contains(series.Name, grouped));
        Assert.DoesNotContain("simulated", single);
    }

    [Fact]
    public void Svg_SetsEveryTextInTheEmbeddedFont()
    {
        // The font ships inside the CLI, so text renders on a machine with no fonts installed.
        using var folder = new TemporaryFolder();

        var svg = XDocument.Load(ChartWriter.Write(Grouped(), folder.Path, "font")[1]);

        var families = svg.Descendants(Svg + "text").Select(text => (string?)text.Attribute("font-family")).Distinct().ToList();
        Assert.Equal(["Inter"], families);
    }

    [Theory]
    [MemberData(nameof(ChartNames))]
    public void Write_Twice_GivesIdenticalSvgBytes(string name)
    {
        using var folder = new TemporaryFolder();

        var first = File.ReadAllBytes(ChartWriter.Write(Named(name), Path.Combine(folder.Path, "first"), name)[1]);
        var second = File.ReadAllBytes(ChartWriter.Write(Named(name), Path.Combine(folder.Path, "second"), name)[1]);

        Assert.Equal(first, second);
    }

    [Fact]
    public void SeriesLength_NotMatchingTheCategories_Throws()
    {
        var error = Assert.Throws<ArgumentException>(() =>
            new BarChart("t", "v", ["a", "b", "c"], [new BarSeries("short", [1.0, 2.0])]));
        Assert.Contains("2 values", error.Message, StringComparison.Ordinal);
        Assert.Contains("3 categories", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void SeriesLength_ChangedByWith_ThrowsOnWrite()
    {
        using var folder = new TemporaryFolder();
        var chart = Grouped() with { Categories = ["only one"] };

        Assert.Throws<ArgumentException>(() => ChartWriter.Write(chart, folder.Path, "bad"));
        Assert.Empty(Directory.GetFiles(folder.Path));
    }

    [Fact]
    public void ErrorBarEnds_NotOnePerValue_Throw()
    {
        Assert.Throws<ArgumentException>(() =>
            new BarChart("t", "v", ["a", "b"], [new BarSeries("s", [1.0, 2.0]) { Low = [0.5], High = [1.5, 2.5] }]));
        Assert.Throws<ArgumentException>(() =>
            new BarChart("t", "v", ["a", "b"], [new BarSeries("s", [1.0, 2.0]) { Low = [0.5, 1.5], High = [1.5, 2.5, 3.5] }]));
    }

    [Fact]
    public void ErrorBarEnd_OnTheWrongSideOfItsValue_Throws()
    {
        Assert.Throws<ArgumentException>(() =>
            new BarChart("t", "v", ["a"], [new BarSeries("s", [1.0]) { Low = [1.5] }]));
        Assert.Throws<ArgumentException>(() =>
            new BarChart("t", "v", ["a"], [new BarSeries("s", [1.0]) { High = [0.5] }]));
    }

    [Theory]
    [InlineData(double.NaN)]
    [InlineData(double.PositiveInfinity)]
    [InlineData(double.NegativeInfinity)]
    public void NonFiniteNumbers_Throw(double bad)
    {
        var error = Assert.Throws<ArgumentException>(() => new BarSeries("s", [1.0, bad]));
        Assert.Contains("finite", error.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new BarSeries("s", [1.0]) { Low = [bad] });
        Assert.Throws<ArgumentException>(() => new BarSeries("s", [1.0]) { High = [bad] });
        Assert.Throws<ArgumentException>(() => Grouped() with { ReferenceLine = bad });
    }

    [Fact]
    public void NoCategoriesOrNoSeries_Throw()
    {
        Assert.Throws<ArgumentException>(() => new BarChart("t", "v", [], [new BarSeries("s", [])]));
        Assert.Throws<ArgumentException>(() => new BarChart("t", "v", ["a"], []));
        Assert.Throws<ArgumentException>(() => new BarChart("t", "v", default, [new BarSeries("s", [1.0])]));
    }

    [Fact]
    public void LogarithmicScale_WithANonPositiveNumber_ThrowsOnWrite()
    {
        using var folder = new TemporaryFolder();
        var chart = Logarithmic() with { ReferenceLine = 0 };

        var error = Assert.Throws<ArgumentException>(() => ChartWriter.Write(chart, folder.Path, "bad"));
        Assert.Contains("positive", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("")]
    [InlineData("sub/name")]
    public void FileStem_ThatIsNotAPlainName_Throws(string stem)
    {
        using var folder = new TemporaryFolder();

        Assert.ThrowsAny<ArgumentException>(() => ChartWriter.Write(Grouped(), folder.Path, stem));
    }

    [Fact]
    public void Series_DefaultsToNoErrorBars()
    {
        var series = new BarSeries("s", ImmutableArray.Create(1.0, 2.0));

        Assert.False(series.HasErrorBars);
        Assert.True(series.Low.IsEmpty);
        Assert.True(series.High.IsEmpty);
    }

    private static List<string> SvgTexts(string path) =>
        XDocument.Load(path).Descendants(Svg + "text").Select(text => text.Value.Trim()).ToList();
}
