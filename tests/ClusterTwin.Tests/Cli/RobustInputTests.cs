using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

/// <summary>
/// Inputs an audit found answered with a vague message, a wrong one, or a number no input should give: each gets a
/// clear error naming the file and field, what is wrong and what would be right.
/// </summary>
public class RobustInputTests
{
    private const string Training = SmallScenarios.Training;

    private const string Serving = "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\n";

    private const string Requests = "requests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n";

    private static InputException RefusedServing(string yaml)
    {
        using var folder = new TemporaryFolder();
        return Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml", yaml), Repository.Catalog));
    }

    [Fact]
    public void ANumberThatIsNotFinite_IsAClearError_NamingTheResultField_NotAnInternalError()
    {
        var error = Assert.Throws<NonFiniteResultException>(() => Json.Serialize(new { stepTime = new { totalSeconds = double.PositiveInfinity } }));
        Assert.Equal("stepTime.totalSeconds", error.Field);
        Assert.Contains("the result's stepTime.totalSeconds came out as infinity", error.Message, StringComparison.Ordinal);
        Assert.Throws<NonFiniteResultException>(() => Json.CheckFinite(new { values = new[] { 1.0, double.NaN } }));
        Json.CheckFinite(new { seconds = 1.5, missing = (double?)null });
    }

    [Theory]
    [InlineData("layer_overhead: 1e30 s", "serving.layer_overhead", "'1e30 s' is outside the plausible range of a duration (expected 0 to 100 ms)")]
    [InlineData("layer_overhead: 0.2 s", "serving.layer_overhead", "(expected 0 to 100 ms)")]
    [InlineData("request_overhead: 61 s", "serving.request_overhead", "(expected 0 to 60 s)")]
    [InlineData("request_overhead: 10 ms, request_overhead_p99: 5 ms", "serving.request_overhead_p99", "5 ms lies below the median of 10 ms (request_overhead)")]
    [InlineData("request_overhead_p99: 5 ms", "serving.request_overhead_p99", "spreads a front end whose median is zero (request_overhead, not given)")]
    public void AServingOverheadPastPlausible_IsRefused(string overhead, string field, string message)
    {
        var error = RefusedServing(Serving.Replace("tensor: 4}", $"tensor: 4, {overhead}}}", StringComparison.Ordinal) + Requests);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == field && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void ValidatingAnEmptyFolder_IsAnError_SayingWhatACaseFileIs()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("validate", "--cases", folder.Path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("holds no validation case files (*.yaml)", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("validation/README.md", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("mean absolute error", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void TheSameCaseInTwoFolders_OrOneFolderNamedTwice_IsRefused_NotCountedTwice()
    {
        using var folder = new TemporaryFolder();
        var (first, second) = (Path.Combine(folder.Path, "a"), Path.Combine(folder.Path, "b"));
        Directory.CreateDirectory(first);
        Directory.CreateDirectory(second);
        var source = Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml");
        File.Copy(source, Path.Combine(first, "korthikanti-a100-22B-full.yaml"));
        File.Copy(source, Path.Combine(second, "korthikanti-a100-22B-full.yaml"));

        var twoFolders = CliRunner.Run("validate", "--cases", first, "--cases", second);
        Assert.Equal(2, twoFolders.ExitCode);
        Assert.Contains($"korthikanti-a100-22B-full.yaml:{IdLineOf(source)}: id: 'korthikanti-a100-22B-full' is also the case", twoFolders.Errors, StringComparison.Ordinal);

        var named = CliRunner.Run("validate", "--cases", first, "--cases", first + "/");
        Assert.Equal(2, named.ExitCode);
        Assert.Contains("--cases names this folder twice", named.Errors, StringComparison.Ordinal);
    }

    /// <summary>The line a case file's id is on, counted from 1 (the files begin with comments).</summary>
    private static int IdLineOf(string file)
    {
        var line = Array.FindIndex(File.ReadAllLines(file), text => text.StartsWith("id:", StringComparison.Ordinal)) + 1;
        Assert.True(line > 1, "the case names its id below its comments");
        return line;
    }

    [Fact]
    public void ACaseFileGivenAsCases_IsRefused_SayingCasesTakesAFolder()
    {
        var outcome = CliRunner.Run("validate", "--cases", Repository.Path("validation", "cases", "korthikanti-a100-22B-full.yaml"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--cases takes a folder of case files, not a file", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("not found", outcome.Errors, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\n\narrival_seconds,input_tokens,output_tokens\n\n0,100,50\n0.5,200,20\n\n", null)]
    [InlineData("0,100\n", "'trace.csv', line 1: 2 columns where a request has 3; expected the header arrival_seconds,input_tokens,output_tokens")]
    [InlineData("0,128,64,9\n", "'trace.csv', line 1: 4 columns where a request has 3; expected the header")]
    [InlineData("0;100;50\n", "'trace.csv', line 1: expected the header")]
    [InlineData("\nhello\nworld\n0,100,50\n", "'trace.csv', line 2: expected the header")]
    [InlineData("arrival_seconds,input_tokens,output_tokens\ngarbage\n0,100,50\n", "'trace.csv', line 2: expected arrival_seconds,input_tokens,output_tokens (such as 0.25,512,128)")]
    [InlineData("\n\narrival_seconds,input_tokens,output_tokens\n\n", "'trace.csv' holds no requests")]
    [InlineData("0,100,50\r\n0.5,200,20\r", null)]
    public void ATrace_IsCheckedAsItStreams_SkippingBlankLinesAndTheHeader_NamingTheFirstBadLine(string trace, string? message)
    {
        using var folder = new TemporaryFolder();
        folder.Write("trace.csv", trace);
        var path = folder.Write("scenario.yaml", Serving + "requests: {arrival: trace, trace: trace.csv}\n");
        if (message is null)
        {
            var scenario = ScenarioLoader.LoadServing(path, Repository.Catalog);
            Assert.Equal(2, scenario.Run().Completed);
            return;
        }

        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(path, Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "requests.trace" && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void ATraceWithoutLineBreaks_IsRefusedAtItsFirstLongLine_NotReadIntoMemoryWhole()
    {
        using var folder = new TemporaryFolder();
        folder.Write("trace.csv", "\n" + new string('9', 10_000) + "\n0,100,50\n");
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml", Serving + "requests: {arrival: trace, trace: trace.csv}\n"), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "requests.trace" && diagnostic.Message.Contains("line 2: longer than 4,096 characters", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(4096, "line 2: expected the header")]
    [InlineData(4097, "line 2: longer than 4,096 characters")]
    public void ATraceLine_OfTheLongestLength_IsRead_AndOneLonger_IsNot(int length, string message)
    {
        using var folder = new TemporaryFolder();
        folder.Write("trace.csv", "\n" + new string('9', length) + "\n0,100,50\n");
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml", Serving + "requests: {arrival: trace, trace: trace.csv}\n"), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "requests.trace" && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(1e-14, "1e-14")]
    [InlineData(1.906e-9, "1.91e-9")]
    [InlineData(0.000123456, "0.000123")]
    [InlineData(0.5, "0.5")]
    [InlineData(13.14159, "13.14")]
    public void SmallNumbers_PrintToThreeSignificantFigures_NotZero(double value, string expected) =>
        Assert.Equal(expected, ClusterTwin.Cli.Reports.Format.Number(value));

    [Fact]
    public void ATimingsFileWithAByteOrderMark_IsRead()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("measurements", "nvidia-h100-sxm-2026-11-26.json"));
        var path = Path.Combine(folder.Path, "bom.json");
        File.WriteAllText(path, text, new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: true));
        Assert.Equal(0xEF, File.ReadAllBytes(path)[0]);
        Assert.NotEmpty(ClusterTwin.Calibration.KernelMeasurements.Read(path).Matrix);
    }

    [Fact]
    public void AnInputFileLargerThanAnyClusterTwinFile_IsRefusedUnread()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("huge.yaml", Training);
        using (var stream = new FileStream(path, FileMode.Append))
        {
            stream.SetLength(17L << 20);
        }

        var outcome = CliRunner.Run("simulate", path);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("huge.yaml: cannot be read: it holds 17.0 MiB, where a ClusterTwin file holds kilobytes", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ATracePathThatIsAFolder_IsSaidToBeAFolder()
    {
        using var folder = new TemporaryFolder();
        Directory.CreateDirectory(Path.Combine(folder.Path, "traces"));
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml", Serving + "requests: {arrival: trace, trace: traces}\n"), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "requests.trace" && diagnostic.Message.Contains("'traces' is a folder (expected a CSV file", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("simulate", "--catalog", "--catalog needs a value after it: --catalog <DIR>")]
    [InlineData("plan", "--top", "--top needs a value after it: --top <N>")]
    [InlineData("simulate", "--json --catalog", "--catalog needs a value after it")]
    public void AnOptionWithoutItsValue_SaysItNeedsOne(string command, string options, string message)
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run([command, folder.Write("ok.yaml", Training), .. options.Split(' ')]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("__default_command", outcome.Errors, StringComparison.Ordinal);
        Assert.False(File.Exists("__default_command"));
    }

    [Fact]
    public void FirstStageLayersBeyondTheModel_AreSaidToExceedIt_WithoutNegativeLayerCounts()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("deep.yaml", Training.Replace("pipeline: 1", "pipeline: 2\n  first_stage_layers: 1000", StringComparison.Ordinal)));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("first_stage_layers 1000 exceeds what the model's 32 layers allow on pipeline 2: the other rank needs a layer (expected from 1 to 31)", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("first-stage layers 1000, last-stage layers even", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"-\d+ layers|, -\d", outcome.Output);
    }

    [Theory]
    [InlineData("count: 2", "count: [1, 2]", "cluster.count", "expected a whole number from 1 to 100000000, not a list")]
    [InlineData("  count: 2\n", "", "cluster.count", "missing (expected a whole number from 1 to 100000000)")]
    [InlineData("model: llama3-8b", "model: {id: tiny, name: Tiny, layers: 2, attention_heads: 8, feed_forward_size: 1024, feed_forward_activation: swiglu, vocabulary_size: 1000}", "model.hidden_size", "missing (expected a whole number from")]
    [InlineData("precision: bf16", "precision: [bf16]", "training.precision", "expected one of: bf16,")]
    public void ANumericOrChoiceField_SaysWhatItExpects_NotText(string find, string replace, string field, string message)
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("simulate", folder.Write("bad.yaml", Training.Replace(find, replace, StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains($": {field}: {message}", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("expected text", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void KernelTimingsGivenAsAFolder_AreSaidToBeAFolder()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("calibrate", "--kernels", folder.Path, "--chip", "nvidia-h100-sxm", "--dry-run");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains($"{folder.Path}: is a folder (expected the JSON file of kernel timings", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AReportThatCannotBeWritten_SaysWhy_InWords()
    {
        var error = Assert.Throws<InputException>(() => ClusterTwin.Cli.Commands.CatalogSettings.WriteFile("/x.md", "the report", () => throw new FileNotFoundException("Could not find file '/proc/x.md'.")));
        Assert.Equal("/x.md: cannot write the report: the folder / does not accept new files (choose a file in a folder you can write to)", Assert.Single(error.Diagnostics).ToString());
        var denied = Assert.Throws<InputException>(() => ClusterTwin.Cli.Commands.CatalogSettings.WriteFile("/x.md", "the report", () => throw new UnauthorizedAccessException("Access to the path is denied.")));
        Assert.Contains("cannot write the report: permission denied", denied.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ChartsGivenAFileForTheirFolder_AreRefused_BeforeTheRun()
    {
        var outcome = CliRunner.Run("claims", "--plot", Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("cannot write the charts: --plot takes a folder, and this is a file", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("internal error", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ChartsIntoAFolderThatCannotBeMade_AreRefused_BeforeTheClaimsAreEvenRead()
    {
        // The claims file does not exist either: the charts' folder is tried first, not after minutes of searches.
        var outcome = CliRunner.Run("claims", Repository.Path("claims", "no-such-claims.yaml"), "--plot", Path.Combine(Repository.Path("README.md"), "charts"));
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("cannot write the charts:", outcome.Errors, StringComparison.Ordinal);
        Assert.DoesNotContain("no-such-claims", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ChartsTriedBeforeARefusedRun_LeaveNoFolderBehind()
    {
        using var folder = new TemporaryFolder();
        var charts = Path.Combine(folder.Path, "charts");
        var outcome = CliRunner.Run("claims", Repository.Path("claims", "no-such-claims.yaml"), "--plot", charts);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("no-such-claims", outcome.Errors, StringComparison.Ordinal);
        Assert.False(Directory.Exists(charts));
    }

    [Fact]
    public void AReplicaStraddlingPartialSystems_IsSaidPlainly()
    {
        var error = RefusedServing("cluster: {system: nvidia-vera-rubin-nvl72, chips: 7}\nmodel: llama3-70b\nserving: {tensor: 4, precision: fp8}\n" + Requests);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.tensor" && diagnostic.Message.Contains(
            "a replica of tensor 4 x pipeline 1 = 4 chips would straddle two of the cluster's systems, which hold 7 chips each (7 of the 72 chips of one NVIDIA Vera Rubin NVL72): choose tensor x pipeline that divides 7, or a multiple of it",
            StringComparison.Ordinal));
    }

    [Fact]
    public void AStageStraddlingSystems_IsSaidPlainly()
    {
        // 24 chips are three whole DGX H100, but a stage of six would cross from one into the next.
        var error = RefusedServing("cluster: {system: nvidia-dgx-h100, count: 3}\nmodel: llama3-405b\nserving: {tensor: 6, pipeline: 4, precision: fp8}\n" + Requests);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.tensor" && diagnostic.Message.Contains(
            "a stage's tensor group of 6 chips would straddle two of the cluster's systems", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("{basis: owner, offering: spot}", "cost.offering", "does not apply to basis: owner (only to rental); remove it")]
    [InlineData("{basis: owner, whole_instances: false}", "cost.whole_instances", "does not apply to basis: owner (only to rental)")]
    [InlineData("{basis: rental, lifetime_years: 5}", "cost.lifetime_years", "does not apply to basis: rental (only to owner)")]
    [InlineData("{basis: rental, electricity: us-industrial-2023}", "cost.electricity", "does not apply to basis: rental (only to owner)")]
    public void ACostFieldTheBasisDoesNotRead_IsRefused_NotIgnored(string cost, string field, string message)
    {
        var error = RefusedServing(Serving + Requests + $"cost: {cost}\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == field && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }
}
