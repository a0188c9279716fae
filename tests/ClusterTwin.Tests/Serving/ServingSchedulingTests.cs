using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Serving;

public class ServingSchedulingTests
{
    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    private static RequestWorkload Lone(int output) => new() { Arrivals = ArrivalKind.AllAtOnce, Requests = 1, InputTokens = TokenCount.Fixed(200), OutputTokens = TokenCount.Fixed(output) };

    [Fact]
    public void LayerOverhead_AddsEveryLayerOnceToEachIteration()
    {
        var deployment = Deployment;
        var without = ServingSimulator.Run(deployment, Lone(51));
        var with = ServingSimulator.Run(deployment with { LayerOverhead = Duration.FromSeconds(100e-6) }, Lone(51));
        var added = deployment.Model.Layers * 100e-6;
        Assert.Equal(without.TimePerOutputToken.Mean + added, with.TimePerOutputToken.Mean, added * 0.03);
    }

    [Fact]
    public void RequestsArrivingTogether_ArePrefilledInTheFirstIteration()
    {
        // Four prompts at the same instant on one idle replica: its first iteration takes all four, so each first
        // token comes at the end of that one prefill (the iteration of 800 prompt tokens), none a prefill earlier.
        using var folder = new TemporaryFolder();
        var deployment = ScenarioLoader.LoadServing(folder.Write("one.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 1, output_tokens: 1}\n"), Repository.Catalog).Deployment;
        Assert.Equal(1, deployment.Replicas);
        var together = ServingSimulator.Run(deployment, new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 4, InputTokens = TokenCount.Fixed(200), OutputTokens = TokenCount.Fixed(2) });
        var prefill = new IterationCost(deployment).Of(new Iteration(0, 0, 800, 4 * 200 * 201 / 2.0, 4)).Time.Seconds + deployment.RequestOverhead.Seconds;
        Assert.Equal(prefill, together.TimeToFirstToken.Mean, prefill * 0.001);
        Assert.Equal(together.TimeToFirstToken.Mean, together.TimeToFirstToken.P99, prefill * 0.02);

        // Two iterations: the four prompts, then the four second tokens.
        Assert.Equal(2, together.Iterations);

        // Arrivals a moment apart are not batched retroactively: the first is prefilled alone, the other three in the
        // next iteration beside its second token, and they take one more for theirs.
        var trace = folder.Write("trace.csv", "arrival_seconds,input_tokens,output_tokens\n0,200,2\n0.000001,200,2\n0.000001,200,2\n0.000001,200,2\n");
        var staggered = ServingSimulator.Run(deployment, new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = trace });
        Assert.Equal(3, staggered.Iterations);
        Assert.Equal(together.OutputTokens, staggered.OutputTokens);
    }

    [Fact]
    public void MultiStepScheduling_DeliversTokensInBlocks_WithoutChangingTheirPace()
    {
        // Ten decode iterations per scheduling decision: the client sees a token burst every ten iterations.
        var deployment = Deployment;
        var single = ServingSimulator.Run(deployment, Lone(201));
        var multi = ServingSimulator.Run(deployment with { SchedulerSteps = 10 }, Lone(201));
        Assert.Equal(single.TimePerOutputToken.Mean, multi.TimePerOutputToken.Mean, single.TimePerOutputToken.Mean * 0.02);
        Assert.Equal(single.InterTokenLatency.P50 * 10, multi.InterTokenLatency.P50, single.InterTokenLatency.P50 * 0.5);
        Assert.Equal(single.OutputTokens, multi.OutputTokens);
    }

    [Fact]
    public void ReservingTheWholeOutput_NeverPreempts_WhereAdmittingOnThePromptDoes()
    {
        // A cache of ~12 requests' full length, 200 requests: admitting on the prompt overfills it.
        var deployment = Deployment.WithCache(11_000);
        var workload = new RequestWorkload { Arrivals = ArrivalKind.AllAtOnce, Requests = 200, InputTokens = TokenCount.Fixed(500), OutputTokens = TokenCount.Fixed(400) };
        var greedy = ServingSimulator.Run(deployment, workload);
        var reserved = ServingSimulator.Run(deployment with { OutputReservation = 1 }, workload);
        Assert.True(greedy.Preemptions > 0, "admitting on the prompt alone preempts when the cache fills");
        Assert.Equal(0, reserved.Preemptions);
        Assert.Equal(200, reserved.Completed);
        Assert.Equal(greedy.OutputTokens, reserved.OutputTokens);
    }

    [Fact]
    public void SeparateBatches_MakeRunningRequestsWaitForAPrefill()
    {
        // A decodes 100 tokens; B's long prompt arrives meanwhile. Mixed, A gets a token in B's prefill iteration;
        // separate, A waits through it and finishes about one decode later.
        using var folder = new TemporaryFolder();
        var trace = folder.Write("trace.csv", "arrival_seconds,input_tokens,output_tokens\n0,200,100\n0.5,4000,2\n");
        var workload = new RequestWorkload { Arrivals = ArrivalKind.Trace, TraceFile = trace };
        var deployment = ScenarioLoader.LoadServing(folder.Write("one.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\nmodel: llama3-70b\nserving: {tensor: 4}\nrequests: {arrival: all-at-once, count: 1, input_tokens: 1, output_tokens: 1}\n"), Repository.Catalog).Deployment;
        var mixed = ServingSimulator.Run(deployment, workload);
        var separate = ServingSimulator.Run(deployment with { MixedBatches = false }, workload);
        var decode = new IterationCost(deployment).Of(new Iteration(1, 250, 0, 0, 1)).Time.Seconds;
        Assert.Equal(mixed.Makespan.Seconds + decode, separate.Makespan.Seconds, decode * 0.5); // A finishes last: the makespan is its end-to-end latency
        Assert.True(separate.TimeToFirstToken.P99 <= mixed.TimeToFirstToken.P99, "a prefill alone is no slower than one with decodes");
        Assert.Equal(mixed.OutputTokens, separate.OutputTokens);
    }

    [Fact]
    public void BurstyArrivals_KeepTheRate_WithTheGapsSpreadTheBurstinessSets()
    {
        foreach (var burstiness in new[] { 0.25, 1.0, 4.0 })
        {
            var workload = new RequestWorkload { Arrivals = ArrivalKind.Bursty, Rate = 10, Burstiness = burstiness, Requests = 40_000, InputTokens = TokenCount.Fixed(1), OutputTokens = TokenCount.Fixed(1), Seed = 9 };
            var arrivals = workload.Stream().Select(request => request.Arrival).ToArray();
            var gaps = arrivals.Zip(arrivals.Skip(1), (earlier, later) => later - earlier).ToArray();
            var mean = gaps.Average();
            var variance = gaps.Average(gap => (gap - mean) * (gap - mean));
            Assert.Equal(0.1, mean, 0.1 * 0.03);
            Assert.Equal(1 / burstiness, variance / (mean * mean), 0.08 / burstiness); // a gamma gap's squared coefficient of variation is 1 / shape
        }
    }

    [Fact]
    public void Bursts_RaiseTheTailLatency_AtTheSameRate()
    {
        var deployment = Deployment;
        RequestWorkload At(double burstiness) => new() { Arrivals = ArrivalKind.Bursty, Rate = 6, Burstiness = burstiness, Requests = 600, InputTokens = TokenCount.Fixed(1000), OutputTokens = TokenCount.Fixed(100), Seed = 4 };
        var even = ServingSimulator.Run(deployment, At(1));
        var bursty = ServingSimulator.Run(deployment, At(0.1));
        Assert.True(bursty.TimeToFirstToken.P99 > even.TimeToFirstToken.P99 * 1.5, $"{bursty.TimeToFirstToken.P99} against {even.TimeToFirstToken.P99}");
    }

    [Fact]
    public void LogNormalLengths_StayInTheirRange_AroundTheirMedian()
    {
        var count = TokenCount.LogNormal(150, 1, 4, 1024);
        var random = new Random(5);
        var draws = Enumerable.Range(0, 20_000).Select(_ => count.Draw(random)).Order().ToArray();
        Assert.All(draws, draw => Assert.InRange(draw, 4, 1024));
        Assert.InRange(draws[draws.Length / 2], 135, 165);
    }

    [Fact]
    public void Framework_SuppliesSettings_TheScenarioOverrides()
    {
        using var folder = new TemporaryFolder();
        var scenario = """
            cluster: {system: nvidia-dgx-h100, chips: 4}
            model: llama3-70b
            serving: {framework: vllm-0.6, tensor: 4, max_batch: 64}
            requests: {arrival: all-at-once, count: 4, input_tokens: 100, output_tokens: 10}
            """;
        var loaded = ScenarioLoader.LoadServing(folder.Write("a.yaml", scenario), Repository.Catalog).Deployment;
        var framework = Repository.Catalog.Frameworks["vllm-0.6"];
        Assert.Equal(64, loaded.MaximumBatch);
        Assert.Equal(framework.MaximumBatchTokens, loaded.MaximumBatchTokens);
        Assert.Equal(framework.SchedulerSteps, loaded.SchedulerSteps);
        Assert.Equal(framework.LayerOverhead, loaded.LayerOverhead);

        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("b.yaml", scenario.Replace("vllm-0.6", "vllm-9", StringComparison.Ordinal)), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.framework" && diagnostic.Message.Contains("vllm-0.6", StringComparison.Ordinal));
    }
}
