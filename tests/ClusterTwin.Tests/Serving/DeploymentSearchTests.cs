using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class DeploymentSearchTests
{
    private const string Scenario = """
        model: llama3-70b
        requests: {arrival: poisson, rate: 12, count: 600, input_tokens: [512, 2048], output_tokens: [64, 256], seed: 2}
        objectives: {ttft: 1 s, tpot: 40 ms}
        search:
          attainment: 0.9
          max_chips: 64
          systems: [nvidia-dgx-h100, aws-trn2-48xlarge]
          tensor: [4]
          precision: [fp8, mxfp8]
          max_batch: [128]
          serving: {framework: tensorrt-llm, kv_cache_precision: fp8}
        """;

    private static System.Collections.Immutable.ImmutableArray<SearchOutcome> Search(ServingSearchScenario scenario) => scenario.Run(Repository.Catalog);

    [Fact]
    public void EachCandidate_IsTheFewestReplicasThatMeetTheObjectives()
    {
        using var folder = new TemporaryFolder();
        var scenario = ScenarioLoader.LoadServingSearch(folder.Write("search.yaml", Scenario), Repository.Catalog);
        var outcomes = Search(scenario);
        var h100 = outcomes.Single(outcome => outcome.Meets && outcome.System.Id == "nvidia-dgx-h100");
        var deployment = h100.Pools.Single();
        Assert.True(h100.Attainment >= 0.9);
        Assert.True(deployment.Replicas > 1, "the load needs more than one replica");

        // One replica fewer misses the objectives.
        var fewer = ScenarioLoader.ServingCluster(deployment.Cluster.System, (deployment.Replicas - 1) * 4)!;
        var smaller = ServingSimulator.Run(deployment with { Cluster = fewer }, scenario.Workload, scenario.Objectives);
        Assert.True(smaller.WithinObjectives / (double)smaller.Completed < 0.9, $"{deployment.Replicas - 1} replicas would meet the objectives too");
    }

    [Fact]
    public void Outcomes_ComeCheapestFirst_AndSayWhyACandidateHasNone()
    {
        using var folder = new TemporaryFolder();
        var outcomes = Search(ScenarioLoader.LoadServingSearch(folder.Write("search.yaml", Scenario), Repository.Catalog));
        var meeting = outcomes.TakeWhile(outcome => outcome.Meets).ToArray();
        Assert.NotEmpty(meeting);
        Assert.Equal(meeting.OrderBy(outcome => outcome.CostPerMillionOutputTokens!.Value.Dollars), meeting);
        Assert.Contains(outcomes, outcome => outcome.Why is { } why && why.Contains("does not run mxfp8", StringComparison.Ordinal));
    }

    [Fact]
    public void TheCommand_PrintsEveryCandidateAsJson()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("serve-search", folder.Write("search.yaml", Scenario), "--json");
        Assert.Equal(0, outcome.ExitCode);
        using var document = JsonDocument.Parse(outcome.Output);
        var candidates = document.RootElement.GetProperty("candidates");
        Assert.Equal(4, candidates.GetArrayLength());
        Assert.True(candidates[0].GetProperty("meets").GetBoolean());
        Assert.True(candidates[0].GetProperty("costPerMillionOutputTokens").GetDouble() > 0);
    }

    [Fact]
    public void ABadSearch_NamesTheField()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("serve-search", folder.Write("bad.yaml", Scenario.Replace("tensor: [4]", "tensor: [0]", StringComparison.Ordinal).Replace("nvidia-dgx-h100,", "nvidia-dgx-h999,", StringComparison.Ordinal)));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("search.tensor", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("nvidia-dgx-h999", outcome.Errors, StringComparison.Ordinal);
    }
}
