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

    public static TheoryData<string, int> DeeplyNested => new()
    {
        { "x: " + new string('[', 50_000) + new string(']', 50_000) + "\n", 1 },
        { "x: " + string.Concat(Enumerable.Repeat("{a: ", 20_000)) + "1" + new string('}', 20_000) + "\n", 1 },
        { "x:\n" + string.Concat(Enumerable.Range(1, 300).Select(level => new string(' ', level) + $"a{level}:\n")), YamlNesting.Limit + 2 },
        { "x:\n" + string.Concat(Enumerable.Repeat("- ", 300)) + "1\n", 2 },
    };

    [Theory]
    [MemberData(nameof(DeeplyNested))]
    public void AFileNestedBeyondTheLimit_IsRefusedBeforeItIsParsed_AtTheLineThatPassesIt(string text, int line)
    {
        var error = Refused(text);
        Assert.Contains($"scenario.yaml:{line}: not read: nested deeper than {YamlNesting.Limit} levels", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("note: \"[[[[[[\"\n")]
    [InlineData("note: '{{{{ it''s [[[['\n")]
    [InlineData("note: |\n  [[[[[[[[[[\n  {{{{{{{{{{\nother: 1 # [[[[[[\n")]
    public void BracketsInQuotesCommentsAndBlockScalars_DoNotCount(string text) =>
        Assert.Null(YamlNesting.LineBeyondLimit(string.Concat(Enumerable.Repeat(text, 100))));

    [Fact]
    public void TheRepositorysOwnFiles_AreWithinTheLimit()
    {
        var files = RepositoryFolders.SelectMany(folder => Directory.EnumerateFiles(Repository.Path(folder), "*.yaml", SearchOption.AllDirectories)).ToArray();
        Assert.True(files.Length > 300, $"{files.Length} files");
        Assert.All(files, file => Assert.Null(YamlNesting.LineBeyondLimit(File.ReadAllText(file))));
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
