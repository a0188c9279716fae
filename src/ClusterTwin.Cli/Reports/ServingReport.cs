using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The report of <c>clustertwin serve</c>: console and JSON from one set of figures.</summary>
public static class ServingReport
{
    /// <summary>Writes the console report.</summary>
    public static void Write(IAnsiConsole console, ServingScenario scenario, ServingResult result)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(result);
        var deployment = scenario.Deployment;
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}[/]").LeftJustified());
        SimulationReport.WriteCluster(console, deployment.Cluster);
        console.MarkupLineInterpolated($"Model:   {deployment.Model.Name}, {deployment.WeightFormat.Key.ToUpperInvariant()} weights; {result.Replicas:N0} replicas of tensor {deployment.TensorParallelism}, batch up to {deployment.MaximumBatch} requests and {deployment.MaximumBatchTokens:N0} tokens; key-value cache {result.KeyValueCapacityTokens:N0} tokens per replica");
        console.WriteLine();
        var latency = new Table().Border(TableBorder.Rounded).Title("Latency");
        latency.AddColumn("Measure");
        foreach (var column in new[] { "mean", "P50", "P90", "P99" })
        {
            latency.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var (name, summary) in Summaries(result))
        {
            latency.AddRow(name, Seconds(summary.Mean), Seconds(summary.P50), Seconds(summary.P90), Seconds(summary.P99));
        }

        console.Write(latency);
        var throughput = new Table().Border(TableBorder.Rounded).Title("Throughput, energy and cost");
        throughput.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        throughput.AddRow("requests served (refused: prompt larger than the cache)", $"{result.Completed:N0} ({result.Refused:N0})");
        throughput.AddRow("output tokens per second", Format.Number(result.OutputTokensPerSecond));
        throughput.AddRow("requests per second (within the objectives)", $"{Format.Number(result.RequestsPerSecond)} ({Format.Number(result.Goodput)})");
        throughput.AddRow("replicas busy", Format.Percent(result.Utilization));
        throughput.AddRow("preemptions", result.Preemptions.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        throughput.AddRow("energy per output token (IT / facility)", result.Energy is { } energy ? $"{energy.ItPerToken} ({energy.ItPerTokenLow} - {energy.ItPerTokenHigh}) / {energy.FacilityPerToken}" : "n/a");
        throughput.AddRow("cost per million output tokens", result.Cost is { } cost ? $"{cost.PerMillionTokens} ({Markup.Escape(cost.Description)})" : $"n/a: {Markup.Escape(scenario.Cost.Missing ?? "no energy")}");
        console.Write(throughput);
    }

    /// <summary>The JSON document.</summary>
    public static object Document(ServingScenario scenario, ServingResult result)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(result);
        return new
        {
            scenario = scenario.Name,
            replicas = result.Replicas,
            chips = result.Chips,
            keyValueCapacityTokens = result.KeyValueCapacityTokens,
            completed = result.Completed,
            refused = result.Refused,
            preemptions = result.Preemptions,
            iterations = result.Iterations,
            makespanSeconds = result.Makespan.Seconds,
            inputTokens = result.InputTokens,
            outputTokens = result.OutputTokens,
            outputTokensPerSecond = result.OutputTokensPerSecond,
            requestsPerSecond = result.RequestsPerSecond,
            goodputRequestsPerSecond = result.Goodput,
            utilization = result.Utilization,
            timeToFirstTokenSeconds = Summary(result.TimeToFirstToken),
            timePerOutputTokenSeconds = Summary(result.TimePerOutputToken),
            interTokenLatencySeconds = Summary(result.InterTokenLatency),
            endToEndSeconds = Summary(result.EndToEnd),
            joulesPerOutputToken = result.Energy?.ItPerToken.Joules,
            averagePowerPerChipWatts = result.Energy?.AveragePowerPerChip.Watts,
            costPerMillionOutputTokens = result.Cost?.PerMillionTokens.Dollars,
        };
    }

    private static object Summary(Summary summary) => new { mean = summary.Mean, p50 = summary.P50, p90 = summary.P90, p99 = summary.P99 };

    private static IEnumerable<(string Name, Summary Summary)> Summaries(ServingResult result) =>
    [
        ("time to first token", result.TimeToFirstToken),
        ("time per output token", result.TimePerOutputToken),
        ("inter-token latency", result.InterTokenLatency),
        ("end to end", result.EndToEnd),
    ];

    private static string Seconds(double seconds) => Duration.FromSeconds(seconds).ToString();
}
