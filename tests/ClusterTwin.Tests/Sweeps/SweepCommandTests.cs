using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Sweeps;
using ClusterTwin.Tests.Support;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Tests.Sweeps;

public class SweepCommandTests
{
    /// <summary>Eight points over the Trn2 UltraServer example, each simulated with its plan (no search): quick.</summary>
    private static string Sweep(string extra = "") => $"""
        name: Llama 3 70B on Trn2, by batch, micro-batch and sequence
        scenario: {Repository.Path("examples", "llama3-70b-trn2-ultraserver.yaml")}
        vary:
          training.global_batch: [512, 1024]
          plan.micro_batch: [1, 2]
          training.sequence_length: [4096, 8192]
        {extra}
        """;

    [Fact]
    public void ThePoints_AreEveryCombination_TheLastFieldFastest()
    {
        using var folder = new TemporaryFolder();
        var sweep = SweepLoader.Load(folder.Write("sweep.yaml", Sweep()));
        Assert.Equal(8, sweep.Points);
        Assert.Equal([("training.global_batch", "512"), ("plan.micro_batch", "1"), ("training.sequence_length", "8192")], sweep.ValuesAt(1).AsEnumerable());
        Assert.Equal([("training.global_batch", "1024"), ("plan.micro_batch", "2"), ("training.sequence_length", "4096")], sweep.ValuesAt(6).AsEnumerable());

        // Shards deal the points round: together every point once.
        var dealt = Enumerable.Range(0, 3).SelectMany(index => new SweepShard(index, 3).Of(sweep.Points)).Order();
        Assert.Equal(Enumerable.Range(0, 8).Select(point => (long)point), dealt);
    }

    [Fact]
    public void TheTable_NamesTheBestPoints_AmongThoseThatFit()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var outcome = CliRunner.Run(300, "sweep", sweep);
        Assert.Equal(0, outcome.ExitCode);
        var rows = SweepRunner.Run(SweepLoader.Load(sweep), Repository.Catalog, SweepShard.Whole).Where(row => row is { Valid: true, Fits: true }).ToArray();
        var fastest = rows.MaxBy(row => row.TokensPerSecond)!;
        var cheapest = rows.MinBy(row => row.CostPerMillionTokens!.Value.Dollars)!;
        Assert.Contains($"the most tokens per second: point {fastest.Point} (", outcome.Output, StringComparison.Ordinal);
        Assert.Contains($"the least cost per million tokens: point {cheapest.Point} (", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("8 points, 8 with a step", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void APoint_IsWhatSimulateGivesTheScenarioWithItsValues()
    {
        using var folder = new TemporaryFolder();
        var sweep = SweepLoader.Load(folder.Write("sweep.yaml", Sweep()));
        var row = SweepRunner.Point(sweep, Repository.Catalog, 6);
        Assert.True(row.Valid, string.Join("; ", row.Problems));

        // The same scenario written out by hand: batch 1024, micro-batch 2, sequence 4096.
        var text = File.ReadAllText(Repository.Path("examples", "llama3-70b-trn2-ultraserver.yaml"))
            .Replace("sequence_length: 8192", "sequence_length: 4096", StringComparison.Ordinal)
            .Replace("micro_batch: 1", "micro_batch: 2", StringComparison.Ordinal);
        var simulated = JsonDocument.Parse(CliRunner.Run("simulate", folder.Write("point.yaml", text), "--json").Output).RootElement;
        Assert.Equal(simulated.GetProperty("stepTimeSeconds").GetDouble(), row.StepTime.Seconds);
        Assert.Equal(simulated.GetProperty("memoryPerChipBytes").GetDouble(), row.MemoryPerChip.Count);
        Assert.Equal(simulated.GetProperty("costPerMillionTokens").GetDouble(), row.CostPerMillionTokens!.Value.Dollars);
    }

    [Fact]
    public void Shards_MergeIntoTheBytesOfOneRun_WhateverTheThreads()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var whole = Path.Combine(folder.Path, "whole.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--threads", "1", "--out", whole).ExitCode);
        var parts = Enumerable.Range(0, 3).Select(index => Path.Combine(folder.Path, $"part-{index}.jsonl")).ToArray();
        for (var index = 0; index < 3; index++)
        {
            Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", $"{index}/3", "--threads", "2", "--out", parts[index]).ExitCode);
        }

        var merged = Path.Combine(folder.Path, "merged.jsonl");
        var csv = Path.Combine(folder.Path, "merged.csv");
        var outcome = CliRunner.Run("sweep-merge", parts[2], parts[0], parts[1], "--out", merged, "--csv", csv);
        Assert.Equal(0, outcome.ExitCode);
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(merged));

        var lines = File.ReadAllLines(whole);
        Assert.Equal(9, lines.Length);
        Assert.Equal(8, lines.Skip(1).Count(line => JsonDocument.Parse(line).RootElement.GetProperty("valid").GetBoolean()));
        var table = File.ReadAllLines(csv);
        Assert.Equal(9, table.Length);
        Assert.StartsWith("point,training.global_batch,plan.micro_batch,training.sequence_length,valid,chips,plan,stepTimeSeconds", table[0], StringComparison.Ordinal);
    }

    [Fact]
    public void TheCsv_KeepsTextASpreadsheetWouldRunAsAFormulaFromRunning_AndNumbersAsNumbers()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", $"""
            name: names that look like formulas
            scenario: {Repository.Path("examples", "llama3-70b-trn2-ultraserver.yaml")}
            vary:
              name: ["=HYPERLINK(\"http://example.com\")", "@SUM(A1)", "-2+3", "-2.5", "-Infinity", "plain"]
            """);
        var (points, csv) = (Path.Combine(folder.Path, "points.jsonl"), Path.Combine(folder.Path, "points.csv"));
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--out", points).ExitCode);
        Assert.False(File.Exists(points + ".partial"));
        Assert.Equal(0, CliRunner.Run("sweep-merge", points, "--out", Path.Combine(folder.Path, "merged.jsonl"), "--csv", csv).ExitCode);
        var names = File.ReadAllLines(csv).Skip(1).Select(line => line.Split(',')[1]).ToArray();
        // A negative number stays a number.
        Assert.Equal(["\"'=HYPERLINK(\"\"http://example.com\"\")\"", "'@SUM(A1)", "'-2+3", "-2.5", "'-Infinity", "plain"], names);
    }

    [Fact]
    public void Out_ReplacesAnEarlierRunsFile_AndWritesThroughALinkRatherThanReplacingIt()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var (target, link) = (Path.Combine(folder.Path, "target.jsonl"), Path.Combine(folder.Path, "link.jsonl"));
        File.WriteAllText(target, "an earlier run's points\n");
        File.CreateSymbolicLink(link, target);
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--out", link).ExitCode);
        Assert.NotNull(new FileInfo(link).LinkTarget);
        Assert.Equal(9, File.ReadAllLines(target).Length);
        Assert.False(File.Exists(link + ".partial"));

        // A plain file of an earlier run is replaced whole.
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--out", target).ExitCode);
        Assert.Null(new FileInfo(target).LinkTarget);
        Assert.Equal(9, File.ReadAllLines(target).Length);
    }

    [Fact]
    public void AValueItsFieldDoesNotTake_MakesThatPointInvalid_NotTheSweep()
    {
        using var folder = new TemporaryFolder();
        var text = Sweep().Replace("plan.micro_batch: [1, 2]", "plan.micro_batch: [1, 3]", StringComparison.Ordinal)
            .Replace("training.global_batch: [512, 1024]", "cluster.system: [aws-trn2-ultraserver, no-such-system]", StringComparison.Ordinal);
        var outcome = CliRunner.Run("sweep", folder.Write("sweep.yaml", text), "--json");
        Assert.Equal(0, outcome.ExitCode);
        var rows = outcome.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Skip(1).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal(8, rows.Length);
        Assert.All(rows[4..], row => Assert.Contains("cluster.system: unknown system 'no-such-system'", row.GetProperty("problems")[0].GetString(), StringComparison.Ordinal));

        // Micro-batch 3 does not divide the 512 sequences per 32 replicas: the plan's problem, as simulate says it.
        Assert.Contains("not a multiple of data parallelism", rows[2].GetProperty("problems")[0].GetString(), StringComparison.Ordinal);
        Assert.True(rows[0].GetProperty("valid").GetBoolean());
    }

    [Theory]
    [InlineData("model.layers: [80]", "vary.model.layers", "cannot be set: model in the base scenario is not a mapping")]
    [InlineData("cluster.count: []", "vary.cluster.count", "expected a non-empty list")]
    [InlineData("Cluster.Count: [1]", "vary.Cluster.Count", "is not a field path")]
    [InlineData("objective: cost", "objective", "applies to a search")]
    public void ASweepThatCannotBeRun_IsReportedAtItsField(string line, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var text = line.StartsWith("objective", StringComparison.Ordinal) ? Sweep(line) : Sweep().Replace("  plan.micro_batch: [1, 2]", "  " + line, StringComparison.Ordinal);
        var outcome = CliRunner.Run("sweep", folder.Write("sweep.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "sweep.yaml", field, reason);
    }

    [Fact]
    public void MergingShardsThatDoNotMakeOneRun_IsRefused_SayingWhy()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var other = folder.Write("other.yaml", Sweep().Replace("[4096, 8192]", "[2048, 8192]", StringComparison.Ordinal));
        string Part(string file, string shard)
        {
            var path = Path.Combine(folder.Path, $"{Path.GetFileNameWithoutExtension(file)}-{shard.Replace('/', '-')}.jsonl");
            Assert.Equal(0, CliRunner.Run("sweep", file, "--shard", shard, "--out", path).ExitCode);
            return path;
        }

        var (zero, one, otherOne) = (Part(sweep, "0/2"), Part(sweep, "1/2"), Part(other, "1/2"));
        var merged = Path.Combine(folder.Path, "merged.jsonl");
        Assert.Contains("1 of the 2 shards are missing, such as 1", CliRunner.Run("sweep-merge", zero, "--out", merged).Errors, StringComparison.Ordinal);
        Assert.Contains("shard: is 0, as in", CliRunner.Run("sweep-merge", zero, zero, one, "--out", merged).Errors, StringComparison.Ordinal);
        Assert.Contains("the file is of another sweep, split or catalogue", CliRunner.Run("sweep-merge", zero, otherOne, "--out", merged).Errors, StringComparison.Ordinal);

        // A shard run with other catalogue figures does not merge either.
        using var catalog = TemporaryFolder.WithCatalogCopy();
        File.AppendAllText(Path.Combine(catalog.Path, "prices", "cloud.yaml"), "\n# a changed figure would change the points\n");
        var otherCatalog = Path.Combine(folder.Path, "other-catalog-1.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", "1/2", "--out", otherCatalog, "--catalog", catalog.Path).ExitCode);
        var outcome = CliRunner.Run("sweep-merge", zero, otherCatalog, "--out", merged);
        Reported.AtField(outcome, "other-catalog-1.jsonl", "catalog", "the file is of another sweep, split or catalogue");
        File.WriteAllLines(one, File.ReadAllLines(one)[..^1]);
        Assert.Contains("a shard stopped early", CliRunner.Run("sweep-merge", zero, one, "--out", merged).Errors, StringComparison.Ordinal);
        Assert.False(File.Exists(merged));
    }

    [Fact]
    public void TheJobs_RunEveryShardOnce_OnSlurmAndOnKubernetes()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var slurm = Path.Combine(folder.Path, "sweep.slurm");
        Assert.Equal(0, CliRunner.Run("sweep-launch", sweep, "--engine", "slurm", "--shards", "4", "--out", slurm).ExitCode);
        var script = File.ReadAllText(slurm);
        Assert.Contains("#SBATCH --array=0-3", script, StringComparison.Ordinal);
        Assert.Contains($"./clustertwin sweep '{sweep}' --shard \"${{SLURM_ARRAY_TASK_ID}}/4\"", script, StringComparison.Ordinal);
        Assert.Contains("--out \"sweep-parts/sweep/${SLURM_ARRAY_TASK_ID}.jsonl\"", script, StringComparison.Ordinal);

        // In the image the repository is at /clustertwin: the example's path is the repository's.
        var example = Repository.Path("examples", "sweeps", "llama3-70b-trainium-sizes.yaml");
        var manifest = Path.Combine(folder.Path, "sweep-job.yaml");
        Assert.Equal(0, CliRunner.Run("sweep-launch", example, "--engine", "kubernetes", "--shards", "4", "--image", "registry.example.com/clustertwin:1", "--out", manifest).ExitCode);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(File.ReadAllText(manifest)));
        var spec = (YamlMappingNode)((YamlMappingNode)yaml.Documents[0].RootNode)["spec"];
        Assert.Equal("Indexed", spec["completionMode"].ToString());
        Assert.Equal("4", spec["completions"].ToString());
        var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)spec["template"])["spec"])["containers"])[0];
        Assert.Equal("registry.example.com/clustertwin:1", container["image"].ToString());
        var command = ((YamlSequenceNode)container["args"])[0].ToString();
        Assert.Contains("./clustertwin sweep 'examples/sweeps/llama3-70b-trainium-sizes.yaml' --shard \"$JOB_COMPLETION_INDEX/4\"", command, StringComparison.Ordinal);

        // A sweep outside the repository is not in the image.
        Assert.Contains("is outside the repository", CliRunner.Run("sweep-launch", sweep, "--engine", "kubernetes", "--shards", "4", "--out", manifest).Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AMappingAndAFieldInsideIt_GiveEveryPointItsOwnValues_WhateverTheThreads()
    {
        // The plan block as a whole, then a field inside it: each point sets into its own copy of the block.
        using var folder = new TemporaryFolder();
        var text = Sweep().Replace("  plan.micro_batch: [1, 2]", "  plan: [{tensor: 8, pipeline: 4, data: 32, sequence_parallel: true, recompute: selective}, {tensor: 4, pipeline: 8, data: 32, sequence_parallel: true, recompute: selective}]\n  plan.micro_batch: [1, 2]", StringComparison.Ordinal)
            .Replace("name: Llama 3 70B on Trn2, by batch, micro-batch and sequence", "name: \"Llama 3 70B's plans & micro-batches, é\"", StringComparison.Ordinal);
        var sweep = folder.Write("sweep.yaml", text);
        var (one, many) = (Path.Combine(folder.Path, "one.jsonl"), Path.Combine(folder.Path, "many.jsonl"));
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--threads", "1", "--out", one).ExitCode);
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--threads", "8", "--out", many).ExitCode);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(many));
        var rows = File.ReadAllLines(one).Skip(1).Select(line => JsonDocument.Parse(line).RootElement).ToArray();
        Assert.Equal(16, rows.Length);
        Assert.StartsWith("TP 8 CP 1 EP 1 PP 4 VP 1 DP 32 micro-batch 1", rows[0].GetProperty("plan").GetString(), StringComparison.Ordinal);
        Assert.StartsWith("TP 4 CP 1 EP 1 PP 8 VP 1 DP 32 micro-batch 2", rows[7].GetProperty("plan").GetString(), StringComparison.Ordinal);

        // A name with quotes and accents survives the merge byte for byte.
        var parts = Enumerable.Range(0, 2).Select(index => Path.Combine(folder.Path, $"part-{index}.jsonl")).ToArray();
        for (var index = 0; index < 2; index++)
        {
            Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", $"{index}/2", "--out", parts[index]).ExitCode);
        }

        var merged = Path.Combine(folder.Path, "merged.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep-merge", parts[1], parts[0], "--out", merged).ExitCode);
        Assert.Equal(File.ReadAllBytes(one), File.ReadAllBytes(merged));
    }

    [Theory]
    [InlineData("\"shard\":1,", "\"shard\":\"1\",", "shard", "expected a whole number from 0 to 1")]
    [InlineData("{\"point\":1,", "{\"point\":1.5,", "point", "expected a whole number from 0 to 7")]
    [InlineData("{\"point\":1,", "{\"point\":2,", "point", "2 is not shard 1's of 2")]
    [InlineData("\"shards\":2,", "\"shards\":2000000000,", "shards", "is 2000000000, not 2")]
    public void ADamagedShardFile_IsRefused_AtItsLineAndField(string from, string to, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", Sweep());
        var parts = Enumerable.Range(0, 2).Select(index => Path.Combine(folder.Path, $"part-{index}.jsonl")).ToArray();
        for (var index = 0; index < 2; index++)
        {
            Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", $"{index}/2", "--out", parts[index]).ExitCode);
        }

        var text = File.ReadAllText(parts[1]);
        Assert.Contains(from, text, StringComparison.Ordinal);
        File.WriteAllText(parts[1], text.Replace(from, to, StringComparison.Ordinal));
        var outcome = CliRunner.Run("sweep-merge", parts[0], parts[1], "--out", Path.Combine(folder.Path, "merged.jsonl"));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "part-1.jsonl", field, reason);
    }

    /// <summary>Six serving points over the H100 serving example, 500 requests each: quick.</summary>
    private static string ServingSweep(string extra = "") => $"""
        name: Llama 3 70B on 8 H100, by rate and batch limit
        scenario: {Repository.Path("examples", "serve-llama3-70b-h100.yaml")}
        vary:
          requests.count: [500]
          requests.rate: [4, 8, 16]
          serving.max_batch: [64, 256]
        {extra}
        """;

    [Fact]
    public void AServingPoint_IsWhatServeGivesTheScenarioWithItsValues_AndItsShardsMergeToo()
    {
        using var folder = new TemporaryFolder();
        var sweep = folder.Write("sweep.yaml", ServingSweep());
        var whole = Path.Combine(folder.Path, "whole.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--out", whole).ExitCode);
        var lines = File.ReadAllLines(whole);
        Assert.Equal("serving", JsonDocument.Parse(lines[0]).RootElement.GetProperty("kind").GetString());
        var point = JsonDocument.Parse(lines[6]).RootElement; // rate 16, max_batch 256: the batch limit shows at this rate
        Assert.NotEqual(JsonDocument.Parse(lines[5]).RootElement.GetProperty("outputTokensPerSecond").GetDouble(), point.GetProperty("outputTokensPerSecond").GetDouble());

        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-h100.yaml")).Replace("count: 2000", "count: 500", StringComparison.Ordinal)
            .Replace("rate: 8 ", "rate: 16 ", StringComparison.Ordinal);
        var served = JsonDocument.Parse(CliRunner.Run("serve", folder.Write("point.yaml", text), "--json").Output).RootElement;
        Assert.Equal(served.GetProperty("outputTokensPerSecond").GetDouble(), point.GetProperty("outputTokensPerSecond").GetDouble());
        Assert.Equal(served.GetProperty("costPerMillionOutputTokens").GetDouble(), point.GetProperty("costPerMillionOutputTokens").GetDouble());

        var parts = Enumerable.Range(0, 2).Select(index => Path.Combine(folder.Path, $"part-{index}.jsonl")).ToArray();
        for (var index = 0; index < 2; index++)
        {
            Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", $"{index}/2", "--out", parts[index]).ExitCode);
        }

        var (merged, csv) = (Path.Combine(folder.Path, "merged.jsonl"), Path.Combine(folder.Path, "merged.csv"));
        Assert.Equal(0, CliRunner.Run("sweep-merge", parts[0], parts[1], "--out", merged, "--csv", csv).ExitCode);
        Assert.Equal(File.ReadAllBytes(whole), File.ReadAllBytes(merged));
        Assert.StartsWith("point,requests.count,requests.rate,serving.max_batch,valid,chips,outputTokensPerSecond,goodputRequestsPerSecond,attainment", File.ReadAllLines(csv)[0], StringComparison.Ordinal);

        // The table names the best of the points that meet their objectives for 90% of requests.
        Assert.Contains("Of the points that meet their objectives for 90.0% of requests, the most goodput: point", CliRunner.Run(300, "sweep", sweep).Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("search: true", "search", "applies to training sweeps")]
    [InlineData("attainment: 0.95", "attainment", "applies to serving sweeps")]
    public void AFieldOfTheOtherKindOfSweep_IsRefused(string line, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var text = field == "search" ? ServingSweep(line) : Sweep(line);
        var outcome = CliRunner.Run("sweep", folder.Write("sweep.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "sweep.yaml", field, reason);
    }

    [Fact]
    public void TheFingerprint_CoversTheRequestTrace_SoShardsOfTwoTracesDoNotMerge()
    {
        using var folder = new TemporaryFolder();
        folder.Write("base.yaml", File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-h100.yaml")).Replace("arrival: poisson", "arrival: trace\n  trace: requests.csv", StringComparison.Ordinal));
        var sweep = folder.Write("sweep.yaml", "scenario: base.yaml\nvary:\n  serving.max_batch: [64, 256]\n");
        folder.Write("requests.csv", "0,100,10\n");
        var before = SweepLoader.Load(sweep).Fingerprint;
        folder.Write("requests.csv", "0,100,11\n");
        Assert.NotEqual(before, SweepLoader.Load(sweep).Fingerprint);
    }
}
