using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Tests.Support;

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

    private static CapacityResult Search(ServingScenario scenario, double attainment = 0.9) =>
        CapacitySearch.Run(scenario.Workload, workload => (scenario with { Workload = workload }).Run(), attainment);

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
    public void ObjectivesNoRequestCanMeet_HaveNoCapacity_AndObjectivesNoLoadReaches_AreUnbounded()
    {
        using var folder = new TemporaryFolder();
        var none = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, chips: 4}\n", "objectives: {ttft: 1 ms}\n"));
        Assert.Null(none.Capacity);
        Assert.Equal(CapacitySearch.MostSteps + 1, none.Probes.Length);

        var loose = Search(Load(folder, "cluster: {system: nvidia-dgx-h100, chips: 4}\n", "objectives: {ttft: 100000 s}\n"));
        Assert.True(loose.Unbounded);
        Assert.Equal(CapacitySearch.MostSteps + 1, loose.Probes.Length);
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

        // Objectives no request meets: the answer is that none does, and the exit code says so.
        var none = CliRunner.Run("serve", folder.Write("tight.yaml", "cluster: {system: nvidia-dgx-h100, chips: 4}\n" + Serving + "objectives: {ttft: 1 ms}\n"), "--capacity");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("No rate tried meets the objectives", none.Output, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("objectives: {ttft: 500 ms}\n", "arrival: poisson, rate: 4", "arrival: all-at-once", new string[0], "requests.arrival: --capacity varies the arrival rate, and all-at-once arrivals have none")]
    [InlineData("", "", "", new string[0], "objectives: --capacity finds the highest load within the objectives, and the scenario gives none")]
    [InlineData("objectives: {ttft: 500 ms}\n", "", "", new[] { "--attainment", "1.5" }, "--attainment: 1.5 is not a share of the requests")]
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
        Assert.Contains("--attainment: sets the share of requests the capacity search holds to the objectives: give it with --capacity", outcome.Errors, StringComparison.Ordinal);
    }
}
