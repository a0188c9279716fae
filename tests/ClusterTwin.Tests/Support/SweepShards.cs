namespace ClusterTwin.Tests.Support;

/// <summary>A sweep run whole and in two shards, the shards merged back: what each kind of sweep's tests check alike.</summary>
internal static class SweepShards
{
    private static readonly string[] Halves = ["0/2", "1/2"];

    /// <summary>
    /// Runs <paramref name="sweep"/> whole and as two shards in <paramref name="folder"/>, merges the shards with a CSV,
    /// asserts the merge is byte for byte the whole run's lines, and gives those lines and the CSV's header.
    /// </summary>
    public static (string[] Lines, string CsvHeader) MergedIntoTheWhole(string folder, string sweep)
    {
        var whole = Path.Combine(folder, "whole.jsonl");
        Assert.Equal(0, CliRunner.Run("sweep", sweep, "--out", whole).ExitCode);
        var parts = Halves.Select((shard, index) =>
        {
            var part = Path.Combine(folder, $"part-{index}.jsonl");
            Assert.Equal(0, CliRunner.Run("sweep", sweep, "--shard", shard, "--out", part).ExitCode);
            return part;
        }).ToArray();
        var merged = Path.Combine(folder, "merged.jsonl");
        var csv = Path.Combine(folder, "merged.csv");
        var merge = CliRunner.Run(["sweep-merge", .. parts, "--out", merged, "--csv", csv]);
        Assert.True(merge.ExitCode == 0, merge.Errors);
        Assert.Equal(File.ReadAllText(whole), File.ReadAllText(merged));
        return (File.ReadAllLines(whole), File.ReadAllLines(csv)[0]);
    }
}
