using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Serving;

public class ServingLimitsTests
{
    /// <summary>The error loading <paramref name="yaml"/> as a serving scenario gives (it must give one).</summary>
    private static InputException Refused(string yaml)
    {
        using var folder = new TemporaryFolder();
        return Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml", yaml), Repository.Catalog));
    }

    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    [Fact]
    public void ARequestLargerThanTheCache_IsRefused_AndNoneIsLeftUnfinished()
    {
        var deployment = Deployment;
        var capacity = deployment.KeyValueCapacityTokens;
        var trace = new TemporaryFolder();
        using (trace)
        {
            // One request fits; one's prompt fits but not its prompt and output together.
            var file = trace.Write("t.csv", $"0,1000,100\n0.1,{capacity - 100},200\n");
            var result = ServingSimulator.Run(deployment, new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = file });
            Assert.Equal(1, result.Completed);
            Assert.Equal(1, result.Refused);
            Assert.Equal(0, result.Unfinished);
            Assert.Equal(0.5, result.Attainment, 1e-12);
        }
    }

    [Fact]
    public void MultiStepBlocks_AreShortened_ToWhatTheCacheHolds()
    {
        // Many requests on a cache a little larger than their prompts: blocks of ten steps would overfill it.
        var deployment = Deployment.WithCache(130_000) with { SchedulerSteps = 10 };
        var workload = new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 64, InputTokens = TokenCount.Fixed(2000), OutputTokens = TokenCount.Fixed(300) };
        var result = ServingSimulator.Run(deployment, workload);
        Assert.Equal(64, result.Completed);
        Assert.Equal(0, result.Unfinished);
        Assert.Equal(64 * 300, result.OutputTokens);
    }

    [Fact]
    public void ScaleUpTransfer_NeedsOneDomain()
    {
        var systems = Repository.Catalog.Systems;
        Assert.Null(DisaggregatedDeployment.Incompatibility(systems["nvidia-vera-rubin-nvl72"], systems["aws-trn4-nvlink-fusion-rack"], TransferTier.ScaleUp));
        Assert.Null(DisaggregatedDeployment.Incompatibility(systems["aws-trn4-nvlink-fusion-rack"], systems["nvidia-vera-rubin-nvl72"], TransferTier.ScaleUp));
        Assert.Contains("share no scale-up domain", DisaggregatedDeployment.Incompatibility(systems["nvidia-dgx-h100"], systems["nvidia-dgx-b200"], TransferTier.ScaleUp), StringComparison.Ordinal);
        Assert.Null(DisaggregatedDeployment.Incompatibility(systems["nvidia-dgx-h100"], systems["nvidia-dgx-b200"], TransferTier.ScaleOut));

        // Two whole DGX H100 per pool cannot share one 8-GPU NVLink domain.
        using var folder = new TemporaryFolder();
        var text = """
            model: llama3-70b
            disaggregated:
              transfer: scale-up
              prefill: {cluster: {system: nvidia-dgx-h100, count: 2, fabric: infiniband-ndr-fat-tree}, serving: {tensor: 8, precision: fp8}}
              decode: {cluster: {system: nvidia-dgx-h100, count: 2, fabric: infiniband-ndr-fat-tree}, serving: {tensor: 8, precision: fp8}}
            requests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}
            """;
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("big.yaml", text), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "disaggregated.transfer" && diagnostic.Message.Contains("one 8-chip scale-up domain", StringComparison.Ordinal));
    }

    [Fact]
    public void TraceLines_OfTheWrongShape_AreNamedByLine()
    {
        using var folder = new TemporaryFolder();
        foreach (var (body, line) in new[] { ("arrival,input,output\n0,10,10\n0.5,10,10,7\n", 3), ("0,10,10\n\n1,10\n", 3), ("0,10,10\n1,x,10\n", 2) })
        {
            var file = folder.Write("bad.csv", body);
            var error = Assert.Throws<InvalidDataException>(() => new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = file }.Stream().ToList());
            Assert.Contains($"line {line}", error.Message, StringComparison.Ordinal);
        }

        var good = folder.Write("good.csv", "arrival_seconds,input_tokens,output_tokens\n0,10,10\n0.5,20,30\n");
        Assert.Equal([new Request(0, 10, 10), new Request(0.5, 20, 30)], new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = good }.Stream().ToList());
    }

    [Fact]
    public void NothingServed_IsSaid_AndExitsNonZero_WithoutLatencies()
    {
        // Every request is larger than a replica's cache: no latency exists to report, so none is printed as 0 s.
        using var folder = new TemporaryFolder();
        var file = folder.Write("huge.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\nrequests: {arrival: all-at-once, count: 3, input_tokens: 50000000, output_tokens: 10}\n");
        var text = CliRunner.Run("serve", file);
        Assert.Equal(1, text.ExitCode);
        Assert.Contains("No request completed", text.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("time to first token", text.Output, StringComparison.Ordinal);
        var json = CliRunner.Run("serve", file, "--json");
        Assert.Equal(1, json.ExitCode);
        Assert.DoesNotContain("timeToFirstTokenSeconds", json.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadTensorDegree_IsTheOnlyError_NotFollowedByOneAboutAValueNeverGiven()
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, chips: 8}\nmodel: llama3-70b\nserving: {tensor: 0}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n");
        var only = Assert.Single(error.Diagnostics);
        Assert.Equal("serving.tensor", only.Field);
    }

    [Fact]
    public void ATensorDegree_ThatDoesNotDivideTheHeads_IsRefused_UnlessTheFrameworkPadsThem()
    {
        using var folder = new TemporaryFolder();
        const string Requests = "requests: {arrival: all-at-once, count: 1, input_tokens: 2048, output_tokens: 10}\n";
        var error = Refused("cluster: {system: nvidia-dgx-h100, chips: 6}\nmodel: llama3-70b\nserving: {tensor: 3}\n" + Requests);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.tensor" && diagnostic.Message.Contains("tensor 3 does not divide the 64 attention heads", StringComparison.Ordinal));

        // Twelve Inferentia2 are 24 NeuronCores: Transformers NeuronX pads the 64 heads to 72, three per core, six per chip.
        var padded = ScenarioLoader.LoadServing(folder.Write("inf2.yaml",
            "cluster: {system: aws-inf2-48xlarge, count: 1}\nmodel: llama3-70b\nserving: {framework: transformers-neuronx, tensor: 12, max_batch: 1}\n" + Requests), Repository.Catalog);
        var deployment = padded.Deployment;
        var model = deployment.Model;
        Assert.Equal(6, deployment.QueryHeadsPerChip(model));
        Within.Relative((6 - (64 / 12.0)) * (model.QueryKeyHeadSize + model.ValueHeadSize) * model.HiddenSize, deployment.PaddedHeadParametersPerLayer(model), 1e-12);
        var unpadded = deployment with { Framework = deployment.Framework! with { PadsHeads = false } };
        Assert.NotNull(unpadded.HeadSplitProblem());
        Assert.True(new IterationCost(deployment).Of(new Iteration(0, 0, 2048, 2048 * 2049 / 2.0, 1)).Time > new IterationCost(unpadded).Of(new Iteration(0, 0, 2048, 2048 * 2049 / 2.0, 1)).Time);
    }

    [Theory]
    [InlineData("{arrival: poisson, rate: 4, burstiness: 0.5, count: 10, input_tokens: 10, output_tokens: 10}", "requests.burstiness", "does not apply to arrival: poisson")]
    [InlineData("{arrival: all-at-once, rate: 4, count: 10, input_tokens: 10, output_tokens: 10}", "requests.rate", "does not apply to arrival: all-at-once")]
    [InlineData("{arrival: all-at-once, count: 2.5, input_tokens: 10, output_tokens: 10}", "requests.count", "not a whole number")]
    [InlineData("{arrival: all-at-once, count: 20000000, input_tokens: 10, output_tokens: 10}", "requests.count", "out of range (expected 1 to 10000000)")]
    public void ARequestField_ThatDoesNotApplyOrIsOutOfRange_IsRefused(string requests, string field, string message)
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\nrequests: " + requests + "\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == field && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("cluster: {system: nvidia-dgx-h100, count: 8, fabric: infiniband-ndr-fat-tree}\nmodel: llama3-405b\nserving: {tensor: 64, precision: fp8, speculative: {draft: llama3-8b, draft_tokens: 4, acceptance: 0.7}}\n", "the 32 attention heads of Llama 3 8B")]
    [InlineData("cluster: {system: aws-trn2-48xlarge, count: 3, fabric: aws-efa-ultracluster}\nmodel: deepseek-v3\nserving: {framework: transformers-neuronx, tensor: 48, precision: fp8}\n", "192 ranks) does not divide the 128 attention heads")]
    public void HeadsThatAreNotPadded_MustDivide_ForTheDraftAndUnderLatentAttentionToo(string deployment, string message)
    {
        var error = Refused(deployment + "requests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.tensor" && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AnEmptyTrace_OrArrivalsPastThirtyYears_AreRefusedWhenTheScenarioLoads()
    {
        using var folder = new TemporaryFolder();
        folder.Write("empty.csv", "arrival_seconds,input_tokens,output_tokens\n");
        const string Head = "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\n";
        var empty = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("empty.yaml", Head + "requests: {arrival: trace, trace: empty.csv}\n"), Repository.Catalog));
        Assert.Contains(empty.Diagnostics, diagnostic => diagnostic.Field == "requests.trace" && diagnostic.Message.Contains("holds no requests", StringComparison.Ordinal));
        var slow = Refused(Head + "requests: {arrival: poisson, rate: 1e-9, count: 10, input_tokens: 10, output_tokens: 10}\n");
        Assert.Contains(slow.Diagnostics, diagnostic => diagnostic.Field == "requests.rate" && diagnostic.Message.Contains("past the 1e9 s", StringComparison.Ordinal));
    }

    [Fact]
    public void RequestsPastALearnedPositionTable_AreRefused()
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, chips: 8}\nmodel: gpt3-175b\nserving: {tensor: 8, precision: fp8}\nrequests: {arrival: all-at-once, count: 1, input_tokens: [100, 4000], output_tokens: 10}\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "requests.input_tokens" && diagnostic.Message.Contains("reach 4,010 tokens, past the 2,048 learned positions of GPT-3 175B", StringComparison.Ordinal));
    }

    [Fact]
    public void AMissingFabric_IsTheOnlyError_NotFollowedByOneAboutItsReach()
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, count: 2}\nmodel: llama3-70b\nserving: {tensor: 8}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n");
        Assert.Equal("cluster.fabric", Assert.Single(error.Diagnostics).Field);
    }

    [Theory]
    [InlineData("ttft: 0 ms", "objectives.ttft")]
    [InlineData("tpot: 0 s", "objectives.tpot")]
    public void AZeroObjective_IsRefused(string objective, string field)
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\nobjectives: {" + objective + "}\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == field && diagnostic.Message.Contains("can never be met", StringComparison.Ordinal));
    }

    [Fact]
    public void AServingCluster_BeyondItsFabricsReach_IsRefused()
    {
        var error = Refused("cluster: {system: nvidia-dgx-h100, count: 10000, fabric: infiniband-ndr-fat-tree}\nmodel: llama3-70b\nserving: {tensor: 8}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 10, output_tokens: 10}\n");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "cluster" && diagnostic.Message.Contains("reaches at most 65,536 chips; the cluster has 80,000", StringComparison.Ordinal));
    }

    [Fact]
    public void ASearchThatFindsNothing_SaysSo_AndExitsNonZero()
    {
        // One chip holds no replica of tensor 4; no objective given, so none is printed as the largest duration.
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("serve-search", folder.Write("none.yaml", "model: llama3-70b\nrequests: {arrival: all-at-once, count: 10, input_tokens: 100, output_tokens: 10}\n" +
            "search: {systems: [nvidia-dgx-h100], tensor: [4], precision: [fp8], max_batch: [64], max_chips: 1}\n"));
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("No candidate meets the objectives", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("no latency objective was given", outcome.Output, StringComparison.Ordinal);
        Assert.DoesNotContain("E+", outcome.Output, StringComparison.Ordinal);
    }

    [Fact]
    public void ABadTraceLine_IsAnInputError_InServeAndInTheSearch()
    {
        using var folder = new TemporaryFolder();
        folder.Write("trace.csv", "0,10,10\n1,x,10\n");
        var requests = "requests: {arrival: trace, trace: trace.csv}\n";
        var serve = CliRunner.Run("serve", folder.Write("serve.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\n" + requests));
        var search = CliRunner.Run("serve-search", folder.Write("search.yaml", "model: llama3-70b\n" + requests +
            "search: {systems: [nvidia-dgx-h100, nvidia-dgx-b200], tensor: [4], precision: [fp8], max_batch: [64], max_chips: 8}\n"));
        foreach (var outcome in new[] { serve, search })
        {
            Assert.Equal(2, outcome.ExitCode);
            Assert.Contains("trace.csv: line 2", outcome.Errors, StringComparison.Ordinal);
            Assert.DoesNotContain("internal error", outcome.Errors, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void AReportThatCannotBeWritten_IsRefusedBeforeTheWork()
    {
        using var folder = new TemporaryFolder();
        var blank = CliRunner.Run("validate", "--markdown", " ");
        Assert.Equal(2, blank.ExitCode);
        Assert.Contains("expected a file name", blank.Errors, StringComparison.Ordinal);
        var missing = CliRunner.Run("validate", "--markdown", Path.Combine(folder.Path, "no-such-folder", "page.md"));
        Assert.Equal(2, missing.ExitCode);
        Assert.Contains("does not exist", missing.Errors, StringComparison.Ordinal);
    }
}
