using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Serving;

public class ServingSimulatorTests
{
    private static ServingScenario Example => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog);

    [Fact]
    public void KeyValueCache_IsTheMemoryLeftAfterTheWeights()
    {
        // Llama 3 70B at tensor 4 in BF16: each chip holds a quarter of the weights and 2 of the 8 key-value heads.
        var deployment = Example.Deployment;
        var model = deployment.Model;
        var perToken = model.Layers * 2.0 * (8 / 4) * model.HeadSize * 2;
        Assert.Equal(perToken, deployment.KeyValuePerTokenPerChip.Count, 1e-6);
        var free = (deployment.Cluster.Chip.MemoryCapacity.Value.Count * 0.9) - (model.Parameters / 4 * 2);
        Assert.Equal(Math.Floor(free / perToken), deployment.KeyValueCapacityTokens);
    }

    [Fact]
    public void ASingleDecode_IsBoundByReadingTheWeights()
    {
        // One request decoding: the step reads every weight once, so it takes at least the weights over the HBM bandwidth.
        var deployment = Example.Deployment;
        var cost = new IterationCost(deployment);
        var step = cost.Of(new Iteration(1, 1000, 0, 0, 1)).Time;
        var floor = deployment.WeightsPerChip / deployment.Cluster.Chip.MemoryBandwidth.Value;
        Assert.True(step >= floor * 0.95, $"{step} against a floor of {floor}");
        Assert.True(step < floor * 3, $"{step} is far above the weight-reading floor {floor}");
    }

    [Fact]
    public void DecodeTime_GrowsSlowlyWithTheBatch_UntilComputeBinds()
    {
        var cost = new IterationCost(Example.Deployment);
        var one = cost.Of(new Iteration(1, 1000, 0, 0, 1)).Time;
        var sixtyFour = cost.Of(new Iteration(64, 64_000, 0, 0, 64)).Time;
        Assert.True(sixtyFour < one * 3, "batching decodes shares the weight reads");
        Assert.True(sixtyFour > one);
    }

    [Fact]
    public void OneRequestAlone_HasTtftOfItsPrefillAndTpotOfADecode()
    {
        var scenario = Example;
        var workload = new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 1, InputTokens = TokenCount.Fixed(1000), OutputTokens = TokenCount.Fixed(101) };
        var deployment = scenario.Deployment with { Cluster = scenario.Deployment.Cluster with { System = scenario.Deployment.Cluster.System } };
        var result = ServingSimulator.Run(deployment, workload);
        var cost = new IterationCost(deployment);
        var prefill = cost.Of(new Iteration(0, 0, 1000, 1000 * 1001 / 2.0, 1)).Time.Seconds;
        Assert.Equal(1, result.Completed);
        Assert.Equal(prefill, result.TimeToFirstToken.P50, prefill * 0.02);
        Assert.Equal(100, result.OutputTokens - 1);
        var decode = cost.Of(new Iteration(1, 1050, 0, 0, 1)).Time.Seconds;
        Assert.Equal(decode, result.TimePerOutputToken.Mean, decode * 0.02);
    }

    [Fact]
    public void TheSameSeed_GivesTheSameResult_AndAnotherSeedAnother()
    {
        var scenario = Example;
        var workload = scenario.Workload with { Requests = 300 };
        var first = ServingSimulator.Run(scenario.Deployment, workload, scenario.Objectives);
        var again = ServingSimulator.Run(scenario.Deployment, workload, scenario.Objectives);
        var other = ServingSimulator.Run(scenario.Deployment, workload with { Seed = 2 }, scenario.Objectives);
        Assert.Equal(first.EndToEnd, again.EndToEnd);
        Assert.Equal(first.OutputTokens, again.OutputTokens);
        Assert.NotEqual(first.OutputTokens, other.OutputTokens);
    }

    [Fact]
    public void MoreLoad_RaisesLatencyAndThroughput_UntilSaturation()
    {
        var scenario = Example;
        var light = ServingSimulator.Run(scenario.Deployment, scenario.Workload with { Requests = 400, Rate = 1 });
        var heavy = ServingSimulator.Run(scenario.Deployment, scenario.Workload with { Requests = 400, Rate = 40 });
        Assert.True(heavy.OutputTokensPerSecond > light.OutputTokensPerSecond);
        Assert.True(heavy.TimePerOutputToken.P50 > light.TimePerOutputToken.P50);
        Assert.True(heavy.TimeToFirstToken.P90 > light.TimeToFirstToken.P90);
    }

    [Fact]
    public void ASmallCache_PreemptsAndStillServesEveryRequest()
    {
        var scenario = Example;
        var tight = scenario.Deployment.WithCache(8_000);
        Assert.Equal(8_000, tight.KeyValueCapacityTokens);
        var workload = new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 200, InputTokens = TokenCount.Fixed(500), OutputTokens = TokenCount.Fixed(400) };
        var result = ServingSimulator.Run(tight, workload);
        Assert.Equal(200, result.Completed);
        Assert.True(result.Preemptions > 0, "a cache of a few thousand tokens cannot hold 200 requests of 900");
        Assert.Equal(200 * 400, result.OutputTokens);
    }

    [Fact]
    public void Histogram_PercentilesAreWithinOnePercent()
    {
        var histogram = new LatencyHistogram();
        for (var index = 1; index <= 10_000; index++)
        {
            histogram.Add(index / 1000.0);
        }

        Assert.Equal(5.0, histogram.Percentile(0.5), 0.05);
        Assert.Equal(9.9, histogram.Percentile(0.99), 0.099);
        Assert.Equal(5.0005, histogram.Mean, 1e-9);
    }

    [Fact]
    public void Histogram_LongLatencies_AreNotClipped()
    {
        // Two days and two thousand years: the first within the bins, the second beyond them, reported as recorded.
        var histogram = new LatencyHistogram();
        histogram.Add(2 * 86400);
        Assert.Equal(2 * 86400, histogram.Percentile(0.5), 2 * 86400 * 0.01);
        histogram.Add(6.3e10);
        histogram.Add(6.3e10);
        Assert.Equal(6.3e10, histogram.Percentile(0.99));
    }

    [Fact]
    public void ATraceFile_IsReadAndItsErrorsNamed()
    {
        using var folder = new TemporaryFolder();
        var trace = folder.Write("trace.csv", "arrival_seconds,input_tokens,output_tokens\n0,100,10\n0.5,200,20\n");
        var workload = new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = trace };
        var result = ServingSimulator.Run(Example.Deployment, workload);
        Assert.Equal(2, result.Completed);
        Assert.Equal(30, result.OutputTokens);
        var bad = folder.Write("bad.csv", "0,100,10\n0.5,two hundred,20\n");
        var error = Assert.Throws<InvalidDataException>(() => ServingSimulator.Run(Example.Deployment, new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = bad }));
        Assert.Contains("line 2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0,100,10\n0.5,two hundred,20\n", "line 2: input_tokens and output_tokens must be whole numbers")]
    [InlineData("input_tokens,output_tokens,arrival_seconds\n100,50,5\n", "line 1: expected the header arrival_seconds,input_tokens,output_tokens (in that column order)")]
    [InlineData("arrival_seconds,input_tokens,output_tokens\n", "no requests")]
    [InlineData("", "no requests")]
    [InlineData("1e30,100,10\n", "line 1: arrival_seconds must be a number of seconds from 0 to 1000000000")]
    [InlineData("NaN,100,10\n", "line 1: arrival_seconds must be")]
    [InlineData("5,100,10\n2,100,10\n", "line 2: arrival_seconds 2 goes back before the line above's 5")]
    public void ATraceFile_Error_SaysWhatIsWrongOnWhichLine(string text, string expected)
    {
        using var folder = new TemporaryFolder();
        var trace = folder.Write("trace.csv", text);
        var error = Assert.Throws<InvalidDataException>(() => ServingSimulator.Run(Example.Deployment, new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = trace }));
        Assert.Contains(expected, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void ServeCommand_GivesJson_AndRefusesAModelThatLeavesNoCache()
    {
        var outcome = CliRunner.Run("serve", Repository.Path("examples", "serve-llama3-70b-h100.yaml"), "--json");
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains("\"timeToFirstTokenSeconds\"", outcome.Output, StringComparison.Ordinal);
        foreach (var example in new[] { "serve-llama3-70b-h100.yaml", "serve-llama3-70b-fusion-disaggregated.yaml" })
        {
            // The energy per output token with its range and its facility figure, whether one pool or two.
            var root = System.Text.Json.JsonDocument.Parse(CliRunner.Run("serve", Repository.Path("examples", example), "--json").Output).RootElement;
            var (central, band) = (root.GetProperty("joulesPerOutputToken").GetDouble(), root.GetProperty("joulesPerOutputTokenBand"));
            Assert.InRange(central, band.GetProperty("low").GetDouble(), band.GetProperty("high").GetDouble());
            Assert.True(root.GetProperty("facilityJoulesPerOutputToken").GetDouble() > central, example);
            Assert.Equal(root.GetProperty("pools").GetArrayLength(), root.GetProperty("priceIds").GetArrayLength());
        }

        using var folder = new TemporaryFolder();
        var path = folder.Write("tight.yaml", File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-h100.yaml")).Replace("tensor: 4", "tensor: 1", StringComparison.Ordinal));
        var refused = CliRunner.Run("serve", path);
        Assert.Equal(2, refused.ExitCode);
        Assert.Contains("no room is left for the key-value cache", refused.Errors, StringComparison.Ordinal);
    }
}
