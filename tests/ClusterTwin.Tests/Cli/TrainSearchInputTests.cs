using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Cli;

public class TrainSearchInputTests
{
    private const string Valid = """
        model: llama3-8b
        training:
          sequence_length: 8192
          global_batch: 512
          tokens: 1T
        plan: {tensor: 8}
        cost: {basis: rental}
        deadline: 10 d
        search:
          max_chips: 4096
          clusters:
            - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}
            - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}
        """;

    [Theory]
    [InlineData("  tokens: 1T\n", "", "training.tokens", "a size search needs the tokens to train on")]
    [InlineData("deadline: 10 d", "deadline: 0 d", "deadline", "is zero")]
    [InlineData("deadline: 10 d", "deadline: 10 days", "deadline", "days")]
    [InlineData("deadline: 10 d", "deadline: 1 s", "deadline", "outside the plausible range")]
    [InlineData("deadline: 10 d\n", "", "deadline", "missing")]
    [InlineData("system: nvidia-dgx-h100", "system: nvidia-dgx-h1000", "search.clusters.system", "unknown system 'nvidia-dgx-h1000'")]
    [InlineData("fabric: aws-efa-ultracluster", "fabric: efa", "search.clusters.fabric", "unknown fabric 'efa'")]
    [InlineData(", fabric: infiniband-ndr-fat-tree}", "}", "search.clusters.fabric", "missing: the search joins NVIDIA DGX H100")]
    [InlineData("{system: nvidia-dgx-h100,", "{system: nvidia-dgx-h100, chips_per_system: 9,", "search.clusters.chips_per_system", "9 chips is more than the 8")]
    [InlineData("{system: nvidia-dgx-h100,", "{system: nvidia-dgx-h100, count: 4,", "search.clusters.count", "unknown field")]
    [InlineData("{system: nvidia-dgx-h100,", "{system: nvidia-dgx-a100, precision: fp8,", "search.clusters.precision", "NVIDIA A100 SXM4 80GB does not train in fp8 (it has")]
    [InlineData("{system: nvidia-dgx-h100,", "{system: nvidia-dgx-h100, precision: fp7,", "search.clusters.precision", "'fp7' is not one of")]
    [InlineData("{system: nvidia-dgx-h100,", "{system: nvidia-dgx-h100, framework: megatron,", "search.clusters.framework", "unknown training framework 'megatron'")]
    [InlineData("  tokens: 1T", "  tokens: 1T\n  precision: mxfp8", "search.clusters.precision", "NVIDIA H100 SXM5 80GB does not train in training.precision mxfp8: give this cluster a format it runs")]
    [InlineData("plan: {tensor: 8}", "plan: {tensor: 8, data: 4}", "plan.data", "the data-parallel degree follows each size")]
    [InlineData("cost: {basis: rental}", "cost: {basis: rental, price: aws-p5-48xlarge-on-demand-2025}", "cost.price", "prices each system at its own default")]
    [InlineData("  max_chips: 4096", "  max_chips: 0", "search.max_chips", "out of range")]
    [InlineData("  max_chips: 4096", "  objective: speed", "search.objective", "'speed' is not one of: cost, chips")]
    [InlineData("  max_chips: 4096", "  deadline_at: p50", "search.deadline_at", "'p50' is not one of: prediction, p90")]
    [InlineData("  clusters:\n    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}\n    - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}", "  clusters: []", "search.clusters", "expected a list of {system, fabric, chips_per_system, precision, framework}")]
    [InlineData("model: llama3-8b", "model: llama9", "model", "unknown model 'llama9'")]
    [InlineData("deadline: 10 d", "deadline: 10 d\ncluster: {system: nvidia-dgx-h100, count: 4}", "cluster", "unknown field")]
    [InlineData("    - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}", "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}", "search.clusters", "nvidia-dgx-h100 on infiniband-ndr-fat-tree in bf16 on megatron-core is listed twice")]
    [InlineData("\nsearch:\n  max_chips: 4096\n  clusters:\n    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}\n    - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}", "", "search", "missing")]
    [InlineData("deadline: 10 d\n", "", "deadline", "missing (expected the wall time the run may take, such as 30 d)")]
    [InlineData("{system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}", "{system: nvidia-dgx-h100, fabric: [a, b]}", "search.clusters.fabric", "expected")]
    [InlineData("{system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}", "{system: google-tpu-v4-cube, fabric: google-datacenter-network}", "search.clusters.fabric", "has no published scale-out bandwidth, so it is sized as one system and joins no fabric: remove it")]
    public void BadSearch_IsReportedWithFieldAndReason(string find, string replace, string field, string reason)
    {
        using var folder = new TemporaryFolder();
        var text = Valid.Replace(find, replace, StringComparison.Ordinal);
        Assert.NotEqual(Valid, text);
        var outcome = CliRunner.Run("train-search", folder.Write("bad.yaml", text));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "bad.yaml", field, reason);

        // A fabric that is given, however wrong, is not also said to be missing.
        Assert.True(reason.StartsWith("missing: the search joins", StringComparison.Ordinal) || !outcome.Errors.Contains("missing: the search joins", StringComparison.Ordinal));
    }

    [Fact]
    public void TwoClustersDifferingOnlyInFramework_AreBothSized()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("two.yaml", Valid.Replace(
            "    - {system: aws-trn2-ultraserver, fabric: aws-efa-ultracluster}",
            "    - {system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree, framework: pytorch-fsdp}",
            StringComparison.Ordinal));
        var scenario = ClusterTwin.Catalog.ScenarioLoader.LoadTrainingSearch(path, Repository.Catalog);
        Assert.Equal(2, scenario.Candidates.Length);
    }

    [Fact]
    public void ATrainingScenarioWithAStrayDeadline_IsStillATrainingScenario()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("stray.yaml", """
            cluster: {system: nvidia-dgx-h100, count: 2, fabric: infiniband-ndr-fat-tree}
            model: llama3-8b
            training: {sequence_length: 4096, global_batch: 64}
            plan: {tensor: 8}
            deadline: 30 d
            """);
        var outcome = CliRunner.Run("simulate", path);
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "stray.yaml", "deadline", "unknown field");
    }

    [Fact]
    public void AFileWithADeadlineAlone_NamesEveryBlockItLacks()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("train-search", folder.Write("bare.yaml", "deadline: 30 d\n"));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "bare.yaml", "search", "missing");
        Reported.AtField(outcome, "bare.yaml", "training", "missing");
        Reported.AtField(outcome, "bare.yaml", "model", "missing");
    }

    [Fact]
    public void AProblemOfASharedBlock_IsToldOnce_NotOncePerCluster()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("train-search", folder.Write("bad.yaml", Valid.Replace("model: llama3-8b", "model: llama9", StringComparison.Ordinal)));
        Assert.Equal(1, outcome.Errors.Split("unknown model 'llama9'").Length - 1);
    }

    [Fact]
    public void ADeadlineNoClusterMeets_IsAResult_AndExitsOne()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("late.yaml", Valid.Replace("deadline: 10 d", "deadline: 2 h", StringComparison.Ordinal));
        var outcome = CliRunner.Run("train-search", path);
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("No cluster meets the deadline.", outcome.Output, StringComparison.Ordinal);
        var json = CliRunner.Run("train-search", path, "--json");
        Assert.Equal(1, json.ExitCode);
        using var document = System.Text.Json.JsonDocument.Parse(json.Output);
        Assert.All(document.RootElement.GetProperty("clusters").EnumerateArray(), cluster =>
            Assert.Contains("even at the chip's peak rate the run needs", cluster.GetProperty("why").GetString(), StringComparison.Ordinal));
    }

    [Fact]
    public void TheJsonAndTheMarkdownPage_CarryTheChosenClusters()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("search.yaml", Valid);
        var page = Path.Combine(folder.Path, "page.md");
        var outcome = CliRunner.Run("train-search", path, "--json", "--markdown", page);
        Assert.Equal(0, outcome.ExitCode);
        using var json = System.Text.Json.JsonDocument.Parse(outcome.Output);
        var root = json.RootElement;
        Assert.Equal(864000, root.GetProperty("deadlineSeconds").GetDouble());
        var clusters = root.GetProperty("clusters").EnumerateArray().ToArray();
        Assert.Equal(2, clusters.Length);
        var chosen = clusters[0].GetProperty("chosen");
        Assert.True(chosen.GetProperty("meets").GetBoolean());
        Assert.True(chosen.GetProperty("timeToTrainSeconds").GetDouble() <= 864000);
        Assert.Equal(8, chosen.GetProperty("plan").GetProperty("tensor").GetInt32());
        var markdown = File.ReadAllText(page);
        Assert.Contains("## The cluster each system needs", markdown, StringComparison.Ordinal);
        Assert.Contains("| NVIDIA DGX H100", markdown, StringComparison.Ordinal);
    }
}
