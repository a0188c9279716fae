using ClusterTwin.Catalog;
using ClusterTwin.Numerics;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Serving;

/// <summary>
/// The front end's time as a distribution (median and P99, log-normal between): the metrics fold it into the first
/// token's and the end-to-end latency exactly, and a front end without spread changes nothing.
/// </summary>
public class FrontEndTests
{
    private static readonly FrontEnd Spread = new(Duration.FromSeconds(6e-3), Duration.FromSeconds(10.5e-3));

    private static ServingDeployment Deployment => ScenarioLoader.LoadServing(Repository.Path("examples", "serve-llama3-70b-h100.yaml"), Repository.Catalog).Deployment;

    private static RequestWorkload Alike(int count) => new() { Arrivals = ArrivalKind.AllAtOnce, Requests = count, InputTokens = TokenCount.Fixed(200), OutputTokens = TokenCount.Fixed(20) };

    [Fact]
    public void TheDistribution_HasTheGivenMedianAndP99()
    {
        Assert.Equal(0.975, NormalDistribution.ShareBelow(1.959963985), 1e-6);
        Assert.Equal(0.025, NormalDistribution.ShareBelow(-1.959963985), 1e-7);
        Assert.Equal(0.5, NormalDistribution.ShareBelow(0), 1e-7);
        Assert.Equal(0, Spread.BeyondMedianAt(0.5), 1e-9);
        Assert.Equal(4.5e-3, Spread.BeyondMedianAt(0.99), 1e-8);
        Assert.Equal(0.99, Spread.ShareWithin(4.5e-3), 1e-6);
        Assert.Equal(0.5, Spread.ShareWithin(0), 1e-7);
        Assert.Equal(0, Spread.ShareWithin(-6e-3));

        // The log-normal's mean lies above its median: exp(sigma^2 / 2) of it.
        var sigma = Math.Log(10.5 / 6) / FrontEnd.NormalP99;
        Assert.Equal(sigma, Spread.Sigma, 1e-12);
        Assert.Equal(6e-3 * (Math.Exp(sigma * sigma / 2) - 1), Spread.MeanBeyondMedian, 1e-12);

        // One time for all: no spread, every request within its own time and none below it.
        var fixedTime = FrontEnd.Fixed(Duration.FromSeconds(6e-3));
        Assert.False(fixedTime.Spreads);
        Assert.Equal(1, fixedTime.ShareWithin(0));
        Assert.Equal(0, fixedTime.ShareWithin(-1e-12));
        Assert.False(new FrontEnd(Duration.Zero, Duration.FromSeconds(1e-3)).Spreads);

        // Built in code, a P99 below its median or a negative median is refused, not quietly taken as one time.
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrontEnd(Duration.FromSeconds(2e-3), Duration.FromSeconds(1e-3)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new FrontEnd(Duration.FromSeconds(-1e-3), Duration.FromSeconds(1e-3)));
    }

    [Fact]
    public void AHistogramsPercentiles_WithTheFrontEnd_AreThoseOfTheSum()
    {
        // Recorded latencies from 10 to 100 ms (each holding the median), joined by the front end's spread: the exact
        // percentiles against those of a large seeded sample of the sum.
        var histogram = new LatencyHistogram();
        var random = new Random(7);
        var recorded = Enumerable.Range(0, 20_000).Select(_ => 0.010 + (0.090 * random.NextDouble())).ToArray();
        foreach (var value in recorded)
        {
            histogram.Add(value);
        }

        var sigma = Spread.Sigma;
        var sums = recorded.SelectMany(value => Enumerable.Range(0, 10).Select(_ =>
            value + (6e-3 * (Math.Exp(sigma * Normal(random)) - 1)))).Order().ToArray();
        foreach (var fraction in new[] { 0.5, 0.9, 0.99 })
        {
            var sampled = sums[(int)(fraction * sums.Length)];
            Assert.Equal(sampled, histogram.Percentile(fraction, Spread), sampled * 0.01);
        }

        // One recorded time: the percentiles are it plus the front end's own.
        var single = new LatencyHistogram();
        single.Add(0.050);
        Assert.Equal(single.Percentile(0.5) + 4.5e-3, single.Percentile(0.99, Spread), 1e-8);
        Assert.Equal(single.Percentile(0.5), single.Percentile(0.5, Spread), 1e-8);

        // Without spread, the histogram's own.
        Assert.Equal(histogram.Percentile(0.99), histogram.Percentile(0.99, FrontEnd.Fixed(Duration.FromSeconds(6e-3))));

        // Latencies of months, where neighbouring doubles lie further apart than a nanosecond: the bisection still ends.
        var overloaded = new LatencyHistogram();
        overloaded.Add(1e8);
        overloaded.Add(3e8);
        var tail = overloaded.Percentile(0.99, Spread);
        Assert.True(double.IsFinite(tail) && tail >= 2.9e8, $"{tail}");
    }

    [Fact]
    public void ASpreadingFrontEnd_MovesTheFirstTokensTail_NotItsMedianOrTheDecode()
    {
        var fixedTime = Deployment with { RequestOverhead = Spread.Median };
        var spread = fixedTime with { RequestOverheadP99 = Spread.P99 };
        var alike = ServingSimulator.Run(fixedTime, Alike(4));
        var spreading = ServingSimulator.Run(spread, Alike(4));

        // Four requests alike on the chips: the P99 first token is theirs plus the front end's P99, and so is the
        // end-to-end latency's; the medians stay; the mean rises by the spread's mean; the tokens after the first
        // never see the front end.
        Assert.Equal(alike.TimeToFirstToken.P50, spreading.TimeToFirstToken.P50, 1e-8);
        Assert.Equal(alike.TimeToFirstToken.P50 + 4.5e-3, spreading.TimeToFirstToken.P99, 1e-8);
        Assert.Equal(alike.EndToEnd.P50 + 4.5e-3, spreading.EndToEnd.P99, 1e-8);
        Assert.Equal(alike.TimeToFirstToken.Mean + Spread.MeanBeyondMedian, spreading.TimeToFirstToken.Mean, 1e-12);
        Assert.Equal(alike.TimePerOutputToken, spreading.TimePerOutputToken);
        Assert.Equal(alike.OutputTokensPerSecond, spreading.OutputTokensPerSecond);

        // Without objectives every request counts whole, spread or not.
        Assert.Equal(4, alike.WithinObjectives);
        Assert.Equal(4, spreading.WithinObjectives);
    }

    [Fact]
    public void Goodput_CountsEachRequestByTheShareOfFrontEndTimesThatMeetItsObjective()
    {
        // An objective 2 ms beyond the median first token: every request meets it with one front-end time, and the
        // share of front ends within 2 ms of their median with the spread (about 0.81).
        var fixedTime = Deployment with { RequestOverhead = Spread.Median };
        var firstToken = ServingSimulator.Run(fixedTime, Alike(4)).TimeToFirstToken.Mean;
        var objectives = new ServingObjectives(Duration.FromSeconds(firstToken + 2e-3), Duration.FromSeconds(1));
        Assert.Equal(1, ServingSimulator.Run(fixedTime, Alike(4), objectives).Attainment);
        var spreading = ServingSimulator.Run(fixedTime with { RequestOverheadP99 = Spread.P99 }, Alike(4), objectives);
        Assert.Equal(Spread.ShareWithin(2e-3), spreading.Attainment, 1e-6);
        Assert.InRange(spreading.Attainment, 0.7, 0.9);
    }

    [Fact]
    public void AScenariosP99Alone_SpreadsTheFrameworksMedian_AndAMedianAlone_IsEveryRequestsTime()
    {
        using var folder = new TemporaryFolder();
        const string Head = "cluster: {system: aws-trn1-32xlarge, count: 1}\nmodel: llama3-8b\n";
        const string Requests = "requests: {arrival: all-at-once, count: 1, input_tokens: 128, output_tokens: 8}\n";
        var framework = Repository.Catalog.Frameworks["transformers-neuronx"];
        Assert.NotNull(framework.RequestOverheadP99);

        ServingDeployment Load(string extra) => ScenarioLoader.LoadServing(folder.Write(Guid.NewGuid() + ".yaml",
            Head + $"serving: {{framework: transformers-neuronx, tensor: 16{extra}}}\n" + Requests), Repository.Catalog).Deployment;

        Assert.Equal(new FrontEnd(framework.RequestOverhead, framework.RequestOverheadP99.Value), Load(string.Empty).FrontEnd);
        Assert.Equal(new FrontEnd(framework.RequestOverhead, Duration.FromSeconds(0.03)), Load(", request_overhead_p99: 30 ms").FrontEnd);
        Assert.Equal(FrontEnd.Fixed(Duration.FromSeconds(0.002)), Load(", request_overhead: 2 ms").FrontEnd);
    }

    [Theory]
    [InlineData("request_overhead: 6.5 ms\n", "", "spreads a front end whose median is zero (request_overhead, not given)")]
    [InlineData("request_overhead_p99: 11 ms", "request_overhead_p99: 5 ms", "5 ms lies below the median of 6.5 ms (request_overhead)")]
    public void AFrameworkFilesP99WithoutAMedianOrBelowIt_IsRefused(string from, string to, string message)
    {
        var error = CatalogEdits.LoadWithChange("frameworks/transformers-neuronx.yaml", from, to);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "request_overhead_p99" && diagnostic.Line > 0 && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }

    [Fact]
    public void AScenariosP99BelowItsFrameworksMedian_IsRefused_SayingWhoseMedian()
    {
        using var folder = new TemporaryFolder();
        var error = Assert.Throws<InputException>(() => ScenarioLoader.LoadServing(folder.Write("scenario.yaml",
            "cluster: {system: aws-trn1-32xlarge, count: 1}\nmodel: llama3-8b\nserving: {framework: transformers-neuronx, tensor: 16, request_overhead_p99: 2 ms}\n" +
            "requests: {arrival: all-at-once, count: 1, input_tokens: 128, output_tokens: 8}\n"), Repository.Catalog));
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field == "serving.request_overhead_p99" &&
            diagnostic.Message.Contains("2 ms lies below the median of 6.5 ms (the framework transformers-neuronx's request_overhead, as the scenario gives none)", StringComparison.Ordinal));
    }

    [Fact]
    public void ServesReport_SaysTheFrontEndAndTheStoredWeights()
    {
        var path = Repository.Path("validation", "cases", "neuron-trn1-infer-llama-3-8b-bs8-128-3968.yaml");
        using var folder = new TemporaryFolder();
        var scenario = string.Join('\n', File.ReadAllLines(path).SkipWhile(line => line != "scenario:").Skip(1).Select(line => line.Length >= 2 ? line[2..] : line));
        var framework = Repository.Catalog.Frameworks["transformers-neuronx"];
        var outcome = CliRunner.Run("serve", folder.Write("neuron.yaml", scenario + "\n"));
        Assert.Equal(0, outcome.ExitCode);
        Assert.Contains($"front end {framework.RequestOverhead} per request (P99 {framework.RequestOverheadP99})", outcome.Output, StringComparison.Ordinal);
        Assert.Contains("BF16 multiplies on weights stored in 1 byte each", outcome.Output, StringComparison.Ordinal);
    }

    private static double Normal(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
