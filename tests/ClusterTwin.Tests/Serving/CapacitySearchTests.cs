using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Serving;

/// <summary>
/// <c>serve --capacity</c>: the highest arrival rate at which a deployment meets its objectives, bracketed and bisected
/// to 1%, each rate a full simulation.
/// </summary>
public class CapacitySearchTests
{
    private const string Serving = "model: llama3-70b\nserving: {tensor: 4, max_batch: 256, max_batch_tokens: 8192}\n" +
        "requests: {arrival: poisson, rate: 4, count: 600, input_tokens: [128, 2048], output_tokens: [64, 512], seed: 3}\n";

    private static ServingScenario Load(TemporaryFolder folder, string cluster, string objectives) =>
        ScenarioLoader.LoadServing(folder.Write(Guid.NewGuid() + ".yaml", cluster + Serving + objectives), Repository.Catalog);

    private static CapacityResult Search(ServingScenario scenario, double attainment = 0.9) => scenario.Capacity(attainment);

    private static readonly RequestWorkload Poisson = new() { Arrivals = ArrivalKind.Poisson, Rate = 4, Requests = 1000, InputTokens = TokenCount.Fixed(100), OutputTokens = TokenCount.Fixed(10) };

    // A run whose share of requests within the objectives is given: the search sees nothing else.
    private static ServingResult Run(double attainment, long refused = 0) => new()
    {
        Completed = 1000 - refused,
        Refused = refused,
        Preemptions = 0,
        Iterations = 1,
        Makespan = Duration.FromSeconds(1),
        InputTokens = 0,
        OutputTokens = 0,
        WithinObjectives = attainment * 1000,
        Objectives = new ServingObjectives(),
        TimeToFirstToken = default,
        TimePerOutputToken = default,
        InterTokenLatency = default,
        EndToEnd = default,
        Work = Flops.Zero,
        MemoryTraffic = Bytes.Zero,
        LinkTraffic = Bytes.Zero,
        ReplicaBusyTime = Duration.Zero,
        Replicas = 1,
        Chips = 1,
        KeyValueCapacityTokens = 1,
    };

    [Theory]
    [InlineData(4, 10)]      // meets at the start: 8 meets, 32 misses, then bisects
    [InlineData(100, 10)]    // misses at the start: 50 misses, 12.5 misses, 1.5625 meets, then bisects
    [InlineData(4, 4.02)]    // the boundary just above the start
    [InlineData(1e9, 13)]    // a start far above the boundary: the factor grows, so a dozen steps reach it
    [InlineData(1e-6, 13)]   // and far below it
    public void TheSearch_BracketsTheBoundary_ThenBisectsItToOnePercent(double start, double boundary)
    {
        var capacity = CapacitySearch.Run(Poisson with { Rate = start }, workload => Run(workload.Rate < boundary ? 1 : 0), 0.9);
        Assert.True(capacity.Capacity!.Rate < boundary && capacity.Capacity.Meets);
        Assert.True(capacity.Ceiling!.Rate >= boundary && !capacity.Ceiling.Meets);
        Assert.InRange(capacity.Ceiling.Rate / capacity.Capacity.Rate, 1, 1 + CapacitySearch.Precision);
        Assert.Contains(capacity.Probes, probe => probe.Rate == start);
        Assert.Equal(capacity.Probes.Select(probe => probe.Rate).Order(), capacity.Probes.Select(probe => probe.Rate));
        // A start eight decades away takes about eight steps to bracket and nine to bisect the last, widest step.
        Assert.InRange(capacity.Probes.Length, 3, 20);
    }

    [Theory]
    [InlineData(1e-7)]   // 1,000 requests would arrive over 1e10 s
    [InlineData(1e13)]   // above the highest rate a scenario may give
    public void AStartingRateOutsideTheSearchesRange_IsRefused_NotMovedSilently(double rate) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => CapacitySearch.Run(Poisson with { Rate = rate }, _ => Run(1), 0.9));

    [Fact]
    public void ANonMonotoneRun_StillEndsOnABoundary_ARateThatMeetsBesideOneThatMisses()
    {
        // Met below 10 except in a hole around 8: the search, which met at 4 and missed at 8, settles between them.
        var capacity = CapacitySearch.Run(Poisson, workload => Run(workload.Rate < 10 && Math.Abs(workload.Rate - 8) > 0.5 ? 1 : 0), 0.9);
        Assert.True(capacity.Capacity!.Meets && !capacity.Ceiling!.Meets);
        Assert.InRange(capacity.Ceiling.Rate / capacity.Capacity.Rate, 1, 1 + CapacitySearch.Precision);
        Assert.InRange(capacity.Capacity.Rate, 7.4, 7.5);
    }

    [Fact]
    public void WhereNoRateMeets_TheSearchSaysWhy_AndStopsWhereGoingOnIsPointless()
    {
        // Missed at every rate: lowered to the least rate whose arrivals a run spans (1,000 requests over 1e9 s), then no
        // capacity and no ceiling.
        var never = CapacitySearch.Run(Poisson, _ => Run(0.5), 0.9);
        Assert.Null(never.Capacity);
        Assert.Null(never.Ceiling);
        Assert.False(never.RefusedAtAnyRate);
        Assert.Equal(1000 / CapacitySearch.LongestSpanSeconds, never.Probes[0].Rate);
        Assert.InRange(never.Probes.Length, 5, 12);

        // A fifth of the requests refused (larger than the cache at any rate): one run says no rate can meet 90%.
        var refused = CapacitySearch.Run(Poisson, _ => Run(0.8, refused: 200), 0.9);
        Assert.Single(refused.Probes);
        Assert.True(refused.RefusedAtAnyRate);

        // Halving stops before the arrivals would span more than the 1e9 s a run's times stay exact to.
        var slow = CapacitySearch.Run(Poisson with { Rate = 1e-2, Requests = 1_000_000 }, _ => Run(0), 0.9);
        Assert.All(slow.Probes, probe => Assert.True(1_000_000 / probe.Rate <= CapacitySearch.LongestSpanSeconds, $"{probe.Rate}"));
        Assert.Equal(1_000_000 / CapacitySearch.LongestSpanSeconds, slow.Probes[0].Rate);

        // Met at every rate: raised to the highest rate a scenario may give, unbounded.
        var always = CapacitySearch.Run(Poisson, _ => Run(1), 0.9);
        Assert.True(always.Unbounded);
        Assert.Equal(CapacitySearch.HighestRate, always.Capacity!.Rate);
        Assert.InRange(always.Probes.Length, 5, 12);
    }

    [Fact]
    public void TheCapacity_MeetsTheObjectives_AndARateWithinOnePercentAboveItMissesThem()
    {
        using var folder = new TemporaryFolder();
        var capacity = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, count: 1}\n", "objectives: {ttft: 500 ms, tpot: 50 ms}\n"));
        var best = Assert.IsType<CapacityProbe>(capacity.Capacity);
        var above = Assert.IsType<CapacityProbe>(capacity.Ceiling);
        Assert.True(best.Result.Attainment >= 0.9, $"{best.Result.Attainment}");
        Assert.True(above.Result.Attainment < 0.9, $"{above.Result.Attainment}");
        Assert.InRange(above.Rate / best.Rate, 1, 1 + CapacitySearch.Precision);
        Assert.False(capacity.Unbounded);

        // The search started from the workload's rate, and the probes are in order of rate.
        Assert.Contains(capacity.Probes, probe => probe.Rate == 4);
        Assert.Equal(capacity.Probes.Select(probe => probe.Rate).Order(), capacity.Probes.Select(probe => probe.Rate));

        // Twice the replicas take about twice the load.
        var one = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, chips: 4}\n", "objectives: {ttft: 500 ms, tpot: 50 ms}\n"));
        Assert.InRange(best.Rate / one.Capacity!.Rate, 1.6, 2.4);

        // A looser share of the requests lets more load through.
        var looser = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, count: 1}\n", "objectives: {ttft: 500 ms, tpot: 50 ms}\n"), attainment: 0.5);
        Assert.True(looser.Capacity!.Rate >= best.Rate, $"{looser.Capacity.Rate} against {best.Rate}");
    }

    [Fact]
    public void BurstyAndDisaggregatedScenarios_HaveACapacity_AndTheSearchIsDeterministic()
    {
        using var folder = new TemporaryFolder();
        var bursty = Load(folder, "cluster: {system: nvidia-dgx-h100, chips: 4}\n", "objectives: {ttft: 500 ms, tpot: 50 ms}\n");
        bursty = bursty with { Workload = bursty.Workload with { Arrivals = ArrivalKind.Bursty, Burstiness = 0.5 } };
        var poisson = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, chips: 4}\n", "objectives: {ttft: 500 ms, tpot: 50 ms}\n"));
        var burstier = Search(bursty);
        Assert.True(burstier.Capacity!.Rate < poisson.Capacity!.Rate, $"bursty {burstier.Capacity.Rate} against Poisson {poisson.Capacity.Rate}");
        Assert.Equal(burstier.Probes.Select(probe => (probe.Rate, probe.Result.Attainment)), Search(bursty).Probes.Select(probe => (probe.Rate, probe.Result.Attainment)));

        var text = File.ReadAllText(Repository.Path("examples", "serve-llama3-70b-fusion-disaggregated.yaml")).Replace("count: 8000", "count: 500", StringComparison.Ordinal);
        var split = ScenarioLoader.LoadServing(folder.Write("split.yaml", text), Repository.Catalog);
        Assert.NotNull(split.Split);
        var capacity = Search(split);
        Assert.True(capacity.Capacity!.Result.Attainment >= 0.9 && capacity.Ceiling!.Result.Attainment < 0.9);
    }

    [Fact]
    public void TheCommand_ReportsTheCapacity_AsTextAndJson()
    {
        using var folder = new TemporaryFolder();
        var path = folder.Write("scenario.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\n" + Serving + "objectives: {ttft: 500 ms, tpot: 50 ms}\n");
        var text = CliRunner.Run("serve", path, "--capacity");
        Assert.Equal(0, text.ExitCode);
        Assert.Contains("Capacity: ", text.Output, StringComparison.Ordinal);
        Assert.Contains("Load scan", text.Output, StringComparison.Ordinal);

        var json = CliRunner.Run("serve", path, "--capacity", "--attainment", "0.95", "--json");
        Assert.Equal(0, json.ExitCode);
        using var document = JsonDocument.Parse(json.Output);
        var root = document.RootElement;
        Assert.Equal(0.95, root.GetProperty("attainmentTarget").GetDouble());
        var rate = root.GetProperty("capacityRequestsPerSecond").GetDouble();
        Assert.True(root.GetProperty("ceilingRequestsPerSecond").GetDouble() > rate);
        Assert.True(root.GetProperty("atCapacity").GetProperty("attainment").GetDouble() >= 0.95);
        Assert.Contains(root.GetProperty("probes").EnumerateArray(), probe => probe.GetProperty("requestsPerSecond").GetDouble() == rate && probe.GetProperty("meets").GetBoolean());

        // Objectives no request meets: the answer is that none does, the lightest load tried, and the exit code says so.
        var tight = folder.Write("tight.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\n" + Serving + "objectives: {ttft: 1 ms}\n");
        var none = CliRunner.Run("serve", tight, "--capacity", "--json");
        Assert.Equal(1, none.ExitCode);
        using var nothing = JsonDocument.Parse(none.Output);
        Assert.False(nothing.RootElement.TryGetProperty("capacityRequestsPerSecond", out _));
        Assert.False(nothing.RootElement.TryGetProperty("ceilingRequestsPerSecond", out _));
        Assert.False(nothing.RootElement.TryGetProperty("atCapacity", out _));
        Assert.Equal(8, nothing.RootElement.GetProperty("probes").GetArrayLength());
    }

    [Theory]
    [InlineData("objectives: {ttft: 500 ms}\n", "arrival: poisson, rate: 4", "arrival: all-at-once", new string[0], "requests.arrival: --capacity varies the arrival rate, and all-at-once arrivals have none")]
    [InlineData("", "", "", new string[0], "objectives: --capacity finds the highest load within the objectives, and the scenario gives none")]
    [InlineData("objectives: {ttft: 500 ms}\n", "", "", new[] { "--attainment", "1.5" }, "--attainment '1.5' is not a share of the requests from 0.01 to 1")]
    [InlineData("objectives: {ttft: 500 ms}\n", "", "", new[] { "--attainment", "NaN" }, "--attainment 'NaN' is not a share of the requests")]
    [InlineData("objectives: {ttft: 500 ms}\n", "", "", new[] { "--attainment", "most" }, "--attainment 'most' is not a share of the requests")]
    public void ACapacitySearchItCannotRun_IsRefused_SayingWhy(string objectives, string from, string to, string[] extra, string message)
    {
        using var folder = new TemporaryFolder();
        var text = "cluster: {system: nvidia-dgx-h100, chips: 4}\n" + (from.Length > 0 ? Serving.Replace(from, to, StringComparison.Ordinal) : Serving) + objectives;
        var outcome = CliRunner.Run(["serve", folder.Write("scenario.yaml", text), "--capacity", .. extra]);
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains(message, outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void AnAttainmentWithoutACapacitySearch_IsRefused()
    {
        var outcome = CliRunner.Run("serve", Repository.Path("examples", "serve-llama3-70b-h100.yaml"), "--attainment", "0.9");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--attainment sets the share of requests the capacity search holds to the objectives: give it with --capacity", outcome.Errors, StringComparison.Ordinal);
    }
}
