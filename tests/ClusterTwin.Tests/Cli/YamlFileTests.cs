using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>
/// What a YAML file must be before its fields are read: UTF-8, one document, nested no deeper than a person would
/// write. A file nested tens of thousands deep overflowed YamlDotNet's recursive parser, which .NET cannot catch.
/// </summary>
public class YamlFileTests
{
    private static readonly string[] RepositoryFolders = ["catalog", "examples", "validation", "claims"];

    private static InputException Refused(string text)
    {
        using var folder = new TemporaryFolder();
        return Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("scenario.yaml", text), Repository.Catalog));
    }

    private static string Deep(int levels) => new string('[', levels) + new string(']', levels);

    public static TheoryData<string> DeeplyNested => new()
    {
        "x: " + Deep(50_000) + "\n",
        "x: " + string.Concat(Enumerable.Repeat("{a: ", 20_000)) + "1" + new string('}', 20_000) + "\n",
        "x:\n" + string.Concat(Enumerable.Range(1, 300).Select(level => new string(' ', level) + $"a{level}:\n")) + new string(' ', 301) + "1\n",
        "x:\n" + string.Concat(Enumerable.Repeat("- ", 300)) + "1\n",
        // What a text heuristic missed (a review found these): a block scalar in a list entry, a plain value ending in
        // '>', an unmatched bracket in plain text, a quoted scalar over two lines, and line breaks other than \n.
        "items:\n- key: |\n    text\n  other: " + Deep(50_000) + "\n",
        "items:\n- note: ends with >\n  other: " + Deep(50_000) + "\n",
        "note: see [1\nlist:\n" + string.Concat(Enumerable.Repeat("- ", 50_000)) + "1\n",
        "name: [\"x\n \" , " + Deep(50_000) + "]\n",
        "name: x # c\rcluster: " + Deep(50_000) + "\r",
        "name: x # c\u2028cluster: " + Deep(50_000) + "\u2028",
    };

    [Theory]
    [MemberData(nameof(DeeplyNested))]
    public void AFileNestedBeyondTheLimit_IsRefusedAsItIsParsed_NotAStackOverflow(string text)
    {
        var error = Refused(text);
        Assert.Contains($"not read: nested deeper than {YamlNesting.Limit} levels (a ClusterTwin file needs a few)", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NestingAtTheLimit_IsRead_AndTheLevelPastItIsNot()
    {
        using var folder = new TemporaryFolder();
        // The top-level mapping is a level, and the list under x opens the next.
        static IReadOnlyList<Diagnostic> Read(string path) => YamlReader.Open(path, path).Diagnostics;
        Assert.Empty(Read(folder.Write("at.yaml", "x: " + Deep(YamlNesting.Limit - 1) + "\n")));
        Assert.Contains("nested deeper than", Read(folder.Write("past.yaml", "x: " + Deep(YamlNesting.Limit) + "\n")).Single().Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheRepositorysOwnFiles_AreRead()
    {
        var files = RepositoryFolders.SelectMany(folder => Directory.EnumerateFiles(Repository.Path(folder), "*.yaml", SearchOption.AllDirectories)).ToArray();
        Assert.True(files.Length > 300, $"{files.Length} files");
        Assert.All(files, file => Assert.Empty(YamlReader.Open(file, file).Diagnostics));
    }

    [Fact]
    public void AnEmptyDocumentAfterTheLastSeparator_IsRead_AsBefore()
    {
        using var folder = new TemporaryFolder();
        Assert.Equal("small", ScenarioLoader.Load(folder.Write("s.yaml", SmallScenarios.Training + "\n---\n"), Repository.Catalog).Name);
    }

    [Fact]
    public void AFileNotInUtf8_IsRefused_NamingTheLineAndTheByte()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "scenario.yaml");
        File.WriteAllBytes(path, [.. "cluster: {system: nvidia-dgx-h100, count: 1}\nname: caf"u8.ToArray(), 0xE9, (byte)'\n']);
        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(path, Repository.Catalog));
        Assert.Contains("scenario.yaml:2: not valid UTF-8 (byte 0xE9): save the file as UTF-8", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ASecondDocument_IsRefused_NotIgnored()
    {
        var error = Refused(SmallScenarios.Training + "\n---\nname: second\n");
        Assert.Contains("holds 2 YAML documents (separated by ---), where one is read", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AByteOrderMark_IsRead_AsBefore()
    {
        using var folder = new TemporaryFolder();
        var path = Path.Combine(folder.Path, "scenario.yaml");
        File.WriteAllText(path, SmallScenarios.Training, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(ScenarioLoader.Load(folder.Write("plain.yaml", SmallScenarios.Training), Repository.Catalog).Name, ScenarioLoader.Load(path, Repository.Catalog).Name);
    }
}
