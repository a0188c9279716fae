using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class DeploymentSearchTests
{
    [Theory]
    [InlineData(1e9, 200, true)]       // 200 requests in 200 ns: a burst
    [InlineData(8, 5000, false)]       // the example's sustained load
    [InlineData(500, 400, true)]       // 0.8 s of arrivals
    public void AWorkloadArrivingWithinASecond_IsSaidToBeABurst(double rate, long requests, bool burst)
    {
        var workload = new RequestWorkload { Arrivals = ArrivalKind.Poisson, Rate = rate, Requests = requests, InputTokens = TokenCount.Fixed(100), OutputTokens = TokenCount.Fixed(10) };
        var warning = ClusterTwin.Cli.Reports.ServingSearchReport.Burst(workload);
        Assert.Equal(burst, warning is not null);
        if (burst)
        {
            Assert.Contains($"The {requests:N0} requests arrive within", warning!, StringComparison.Ordinal);
        }
    }

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

    /// <summary>A search for Llama 3 405B in BF16 on DGX H100 at <paramref name="load"/>, over the degrees given.</summary>
    private static ServingSearchScenario Llama405B(TemporaryFolder folder, string load, string objectives, int maximumChips, string tensor, string pipeline) =>
        ScenarioLoader.LoadServingSearch(folder.Write("search.yaml", $$"""
            model: llama3-405b
            requests: {arrival: poisson, {{load}}, input_tokens: 512, output_tokens: 64, seed: 3}
            objectives: {{objectives}}
            search:
              max_chips: {{maximumChips}}
              systems: [nvidia-dgx-h100]
              tensor: {{tensor}}
              pipeline: {{pipeline}}
              precision: [bf16]
              max_batch: [32]
            """), Repository.Catalog);

    /// <summary>The outcome of the candidate whose degrees read <paramref name="shape"/> ("tensor 8 x pipeline 2").</summary>
    private static SearchOutcome Shaped(System.Collections.Immutable.ImmutableArray<SearchOutcome> outcomes, string shape) =>
        outcomes.Single(outcome => outcome.Label.Contains(shape + ",", StringComparison.Ordinal));

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

    [Fact]
    public void APipelinedCandidate_SpansSystems_WhereOneSystemCannotHoldTheWeights()
    {
        // Llama 3 405B in BF16 is 810 GB: one DGX H100 (640 GB) cannot hold it, two stages of tensor 8 can.
        using var folder = new TemporaryFolder();
        var scenario = Llama405B(folder, "rate: 0.5, count: 40", "{ttft: 5 s, tpot: 200 ms}", 64, "[4, 8]", "[1, 2, 3]");
        var outcomes = Search(scenario);
        SearchOutcome Of(string shape) => Shaped(outcomes, shape);
        Assert.Equal(6, outcomes.Length);
        Assert.Contains("no room for the cache at tensor 8", Of("tensor 8").Why, StringComparison.Ordinal);
        Assert.Contains("no room for the cache at tensor 4 x pipeline 2", Of("tensor 4 x pipeline 2").Why, StringComparison.Ordinal);
        Assert.Contains("12 chips neither fits in a", Of("tensor 4 x pipeline 3").Why, StringComparison.Ordinal);

        // Three stages of eight span three systems: counts step by three.
        Assert.True(Of("tensor 8 x pipeline 3").Meets);
        Assert.Equal(0, Of("tensor 8 x pipeline 3").Chips % 24);

        // The pipelined replica: 16 chips over two systems, each stage a tensor group of one system.
        var pipelined = Of("tensor 8 x pipeline 2");
        Assert.True(pipelined.Meets, pipelined.Why);
        var deployment = pipelined.Pools.Single();
        Assert.Equal(2, deployment.PipelineParallelism);
        Assert.Equal(0, deployment.Cluster.ChipCount % 16);
        Assert.True(deployment.KeyValueCapacityTokens > 0);
        Assert.Equal(ServingSimulator.Run(deployment, scenario.Workload, scenario.Objectives).OutputTokens, pipelined.Result!.OutputTokens);
    }

    [Fact]
    public void SpanningReplicas_StepByTheirSystems_AndAStageKeepsItsTensorGroupInOneSystem()
    {
        // At 30 requests a second one pipelined replica of 16 chips is not enough: the counts go 16, 32, 48...
        using var folder = new TemporaryFolder();
        var outcomes = Search(Llama405B(folder, "rate: 30, count: 600", "{ttft: 2 s, tpot: 100 ms}", 128, "[6, 8]", "[2, 4]"));
        SearchOutcome Of(string shape) => Shaped(outcomes, shape);
        foreach (var (shape, chips) in new[] { ("tensor 8 x pipeline 2", 16L), ("tensor 8 x pipeline 4", 32L) })
        {
            var outcome = Of(shape);
            Assert.True(outcome.Meets, shape);
            Assert.True(outcome.Chips > chips, $"{shape}: more than one replica");
            Assert.Equal(0, outcome.Chips % chips);
        }

        // Tensor 6 x pipeline 4 is 24 chips, three whole systems, but a stage of six would straddle two of them.
        Assert.Contains("each stage's tensor group in one", Of("tensor 6 x pipeline 4").Why, StringComparison.Ordinal);
        Assert.Contains("each stage's tensor group in one", Of("tensor 6 x pipeline 2").Why, StringComparison.Ordinal);
    }

    [Fact]
    public void ExpertParallelCandidates_AreSearched_WhereTheModelHasExperts()
    {
        // DeepSeek-V3 at 40 requests a second: both splits of an H200 tensor group of eight are searched; the
        // expert-parallel deployments run expert-parallel. Llama 3 70B has no experts to split: the file is refused at
        // the field, where every expert-parallel candidate would otherwise fail for the same reason.
        const string search = """
            model: deepseek-v3
            requests: {arrival: poisson, rate: 40, count: 1000, input_tokens: [512, 2048], output_tokens: [128, 512], seed: 1}
            objectives: {ttft: 3 s, tpot: 150 ms}
            search:
              max_chips: 64
              systems: [nvidia-hgx-h200]
              tensor: [8]
              expert_parallel: [false, true]
              precision: [fp8]
              max_batch: [256]
            """;
        using var folder = new TemporaryFolder();
        var outcomes = Search(ScenarioLoader.LoadServingSearch(folder.Write("search.yaml", search), Repository.Catalog));
        Assert.Equal(2, outcomes.Length);
        var expert = outcomes.Single(outcome => outcome.Label.Contains("expert-parallel", StringComparison.Ordinal));
        var split = outcomes.Single(outcome => !outcome.Label.Contains("expert-parallel", StringComparison.Ordinal));
        Assert.True(expert.Meets && split.Meets);
        Assert.True(expert.Chips < split.Chips, $"{expert.Chips} chips expert-parallel against {split.Chips} split by tensor");
        Assert.True(expert.Pools.Single().ExpertParallel);
        Assert.False(split.Pools.Single().ExpertParallel);

        var dense = Assert.Throws<InputException>(() => ScenarioLoader.LoadServingSearch(folder.Write("dense.yaml", search.Replace("model: deepseek-v3", "model: llama3-70b", StringComparison.Ordinal)), Repository.Catalog));
        var problem = Assert.Single(dense.Diagnostics);
        Assert.Equal(("search.expert_parallel", 8), (problem.Field, problem.Line));
        Assert.Contains("Llama 3 70B is not a mixture of experts", problem.Message, StringComparison.Ordinal);
        var one = Search(ScenarioLoader.LoadServingSearch(folder.Write("one.yaml", search.Replace("tensor: [8]", "tensor: [1]", StringComparison.Ordinal)), Repository.Catalog));
        Assert.Contains("at least two chips", one.Single(outcome => outcome.Label.Contains("expert-parallel", StringComparison.Ordinal)).Why, StringComparison.Ordinal);
        var bad = CliRunner.Run("serve-search", folder.Write("bad.yaml", search.Replace("[false, true]", "[true, true]", StringComparison.Ordinal)));
        Assert.NotEqual(0, bad.ExitCode);
        Assert.Contains("search.expert_parallel", bad.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadPipelineDegree_OrASharedDegree_NamesTheField()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("serve-search", folder.Write("bad.yaml", Scenario.Replace("tensor: [4]", "tensor: [4]\n  pipeline: [two]", StringComparison.Ordinal)));
        Assert.NotEqual(0, outcome.ExitCode);
        Assert.Contains("search.pipeline", outcome.Errors, StringComparison.Ordinal);
        Assert.Contains("'two' is not a pipeline degree", outcome.Errors, StringComparison.Ordinal);

        var shared = CliRunner.Run("serve-search", folder.Write("shared.yaml", Scenario.Replace("framework: tensorrt-llm,", "framework: tensorrt-llm, pipeline: 2,", StringComparison.Ordinal)));
        Assert.NotEqual(0, shared.ExitCode);
        Assert.Contains("search.serving.pipeline", shared.Errors, StringComparison.Ordinal);
        Assert.Contains("list the values to try in search.pipeline", shared.Errors, StringComparison.Ordinal);

        var expert = CliRunner.Run("serve-search", folder.Write("expert.yaml", Scenario.Replace("framework: tensorrt-llm,", "framework: tensorrt-llm, expert: 4,", StringComparison.Ordinal)));
        Assert.NotEqual(0, expert.ExitCode);
        Assert.Contains("search.serving.expert", expert.Errors, StringComparison.Ordinal);
        Assert.Contains("list it in search.expert_parallel", expert.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AMissingSearchBlock_OrPool_IsOneError_NotOnePerField()
    {
        using var folder = new TemporaryFolder();
        var noSearch = Scenario[..Scenario.IndexOf("search:", StringComparison.Ordinal)];
        var missing = Assert.Throws<InputException>(() => ScenarioLoader.LoadServingSearch(folder.Write("none.yaml", noSearch), Repository.Catalog));
        Assert.Equal("search", Assert.Single(missing.Diagnostics).Field);

        var onePool = Scenario + "\n  disaggregated:\n    - decode: {system: nvidia-dgx-h100, tensor: 8}\n";
        var split = Assert.Throws<InputException>(() => ScenarioLoader.LoadServingSearch(folder.Write("split.yaml", onePool), Repository.Catalog));
        var problem = Assert.Single(split.Diagnostics);
        Assert.Equal(("search.disaggregated.prefill", 13), (problem.Field, problem.Line));
    }
}
