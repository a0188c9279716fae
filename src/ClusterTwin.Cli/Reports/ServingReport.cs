using System.Globalization;
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
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}[/]").LeftJustified());
        foreach (var pool in result.Pools)
        {
            var deployment = pool.Deployment;
            var role = pool.Role == PoolRole.Unified ? string.Empty : $"{char.ToUpperInvariant(pool.Name[0])}{pool.Name[1..]} pool. ";
            if (role.Length > 0)
            {
                console.MarkupLineInterpolated($"[bold]{role}[/]");
            }

            SimulationReport.WriteCluster(console, deployment.Cluster);
            console.MarkupLineInterpolated($"Model:   {deployment.Model.Name}, {Weights(deployment)}{(deployment.Framework is { } framework ? $", {framework.Name}" : string.Empty)}; {pool.Replicas:N0} replicas of {(deployment.ExpertParallel ? $"{deployment.TensorParallelism} chips (expert {deployment.TensorParallelism}: attention data-parallel, routed experts split)" : $"tensor {deployment.TensorParallelism}")}{(deployment.PipelineParallelism > 1 ? $" (pipelines of {deployment.PipelineParallelism} stages, a batch in flight per stage)" : string.Empty)}, batch up to {deployment.MaximumBatch} requests and {deployment.MaximumBatchTokens:N0} tokens; key-value cache {pool.KeyValueCapacityTokens:N0} tokens per replica{LocalCache(deployment)}; busy {Format.Percent(pool.Utilization(result.Makespan))}{FrontEnd(deployment)}");
        }

        if (scenario.Split is { } split)
        {
            console.MarkupLineInterpolated($"Transfer: key-value cache over {(split.Tier == TransferTier.ScaleUp ? "the shared scale-up domain" : "the scale-out network")} at {split.TransferBandwidth} per request ({split.Prefill.KeyValuePerToken} per token{(split.Prefill.CacheLayout.UnitsPerToken > 1 ? " of every layer, less past the local layers' window" : string.Empty)})");
        }

        console.WriteLine();
        if (result.Completed == 0)
        {
            console.MarkupLineInterpolated($"[red bold]No request completed[/] ({result.Refused:N0} refused, each larger than a replica's key-value cache; {result.Unfinished:N0} unfinished): there are no latencies to report. Raise the tensor degree or the memory utilization, use a narrower cache precision, or shorten the requests.");
        }
        else
        {
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
        }

        var throughput = new Table().Border(TableBorder.Rounded).Title("Throughput, energy and cost");
        throughput.AddColumn("Measure").AddColumn(new TableColumn("Value").RightAligned());
        throughput.AddRow("requests served (refused: larger than the cache)", $"{result.Completed:N0} ({result.Refused:N0})");
        if (result.Unfinished > 0)
        {
            throughput.AddRow("[red]requests admitted but never finished[/]", $"{result.Unfinished:N0}");
        }
        throughput.AddRow("output tokens per second", Format.Number(result.OutputTokensPerSecond));
        throughput.AddRow("requests per second (within the objectives)", $"{Format.Number(result.RequestsPerSecond)} ({Format.Number(result.Goodput)})");
        throughput.AddRow("replicas busy", Format.Percent(result.Utilization));
        throughput.AddRow("preemptions", result.Preemptions.ToString("N0", System.Globalization.CultureInfo.InvariantCulture));
        if (result.KeyValueTransfer is { } transfer)
        {
            throughput.AddRow("key-value transfer, queueing included (mean / P99)", $"{Seconds(transfer.Mean)} / {Seconds(transfer.P99)}");
        }

        throughput.AddRow("energy per output token (IT / facility)", result.Energy is { } energy
            ? $"{energy.ItPerToken} ({energy.ItPerTokenLow} - {energy.ItPerTokenHigh}) / {energy.FacilityPerToken}"
            : result.EnergyPerOutputToken is { } total && result.EnergyPerOutputTokenRange is { } range && result.FacilityEnergyPerOutputToken is { } facility
                ? $"{total} ({range.Low} - {range.High}) / {facility}, every pool" : "n/a");
        throughput.AddRow("cost per million output tokens", result.Cost is { } cost
            ? $"{cost.PerMillionTokens} ({Markup.Escape(cost.Description)})"
            : result.CostPerMillionOutputTokens is { } money ? $"{money} (every pool: {Markup.Escape(string.Join("; ", result.Pools.Select(pool => $"{pool.Name} {pool.Cost!.Description}")))})" : $"n/a: {Markup.Escape(scenario.Cost.Missing ?? scenario.PrefillCost?.Missing ?? "no energy")}");
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
            unfinished = result.Unfinished,
            attainment = result.Attainment,
            preemptions = result.Preemptions,
            iterations = result.Iterations,
            makespanSeconds = result.Makespan.Seconds,
            inputTokens = result.InputTokens,
            outputTokens = result.OutputTokens,
            outputTokensPerSecond = result.OutputTokensPerSecond,
            requestsPerSecond = result.RequestsPerSecond,
            goodputRequestsPerSecond = result.Goodput,
            utilization = result.Utilization,
            timeToFirstTokenSeconds = Latencies(result, result.TimeToFirstToken),
            timePerOutputTokenSeconds = Latencies(result, result.TimePerOutputToken),
            interTokenLatencySeconds = Latencies(result, result.InterTokenLatency),
            endToEndSeconds = Latencies(result, result.EndToEnd),
            joulesPerOutputToken = result.EnergyPerOutputToken?.Joules,
            joulesPerOutputTokenBand = result.EnergyPerOutputTokenRange is { } range ? new { low = range.Low.Joules, high = range.High.Joules } : null,
            facilityJoulesPerOutputToken = result.FacilityEnergyPerOutputToken?.Joules,
            averagePowerPerChipWatts = result.Energy?.AveragePowerPerChip.Watts,
            costPerMillionOutputTokens = result.CostPerMillionOutputTokens?.Dollars,
            priceIds = result.Pools.All(pool => pool.Cost is not null) ? result.Pools.Select(pool => pool.Cost!.PriceIds).ToArray() : null,
            keyValueTransferSeconds = result.KeyValueTransfer is { } transfer ? Summary(transfer) : null,
            pools = result.Pools.Select(pool => new
            {
                name = pool.Name,
                system = pool.Deployment.Cluster.System.Id,
                chips = pool.Deployment.Cluster.ChipCount,
                replicas = pool.Replicas,
                tensor = pool.Deployment.TensorParallelism,
                pipeline = pool.Deployment.PipelineParallelism,
                expert = pool.Deployment.ExpertParallelism,
                utilization = pool.Utilization(result.Makespan),
                keyValueCapacityTokens = pool.KeyValueCapacityTokens,
                joulesPerOutputToken = pool.Energy?.ItPerToken.Joules,
                averagePowerPerChipWatts = pool.Energy?.AveragePowerPerChip.Watts,
                costPerMillionOutputTokens = pool.Cost?.PerMillionTokens.Dollars,
            }),
        };
    }

    /// <summary>A latency summary, or null where no request completed (no latency was measured).</summary>
    private static object? Latencies(ServingResult result, Summary summary) => result.Completed == 0 ? null : Summary(summary);

    private static object Summary(Summary summary) => new { mean = summary.Mean, p50 = summary.P50, p90 = summary.P90, p99 = summary.P99 };

    private static IEnumerable<(string Name, Summary Summary)> Summaries(ServingResult result) =>
    [
        ("time to first token", result.TimeToFirstToken),
        ("time per output token", result.TimePerOutputToken),
        ("inter-token latency", result.InterTokenLatency),
        ("end to end", result.EndToEnd),
    ];

    private static string Seconds(double seconds) => Duration.FromSeconds(seconds).ToString();

    // The multiplies' format, and the weights' where they are stored narrower (weight-only quantization).
    private static string Weights(ServingDeployment deployment) => deployment.StoredWeightBytesPerElement is { } stored
        ? $"{deployment.WeightFormat.Key.ToUpperInvariant()} multiplies on weights stored in {stored.ToString("0.##", System.Globalization.CultureInfo.InvariantCulture)} byte{(stored == 1 ? string.Empty : "s")} each"
        : $"{deployment.WeightFormat.Key.ToUpperInvariant()} weights";

    // What local-attention layers keep, where the cache counts them apart (CacheLayout).
    private static string LocalCache(ServingDeployment deployment) =>
        deployment.CacheLayout.UnitsPerToken > 1 && deployment.Model.LocalAttention is { } local
            ? string.Create(CultureInfo.InvariantCulture, $" of every layer ({deployment.Model.LocalAttentionLayerCount} of the {deployment.Model.Layers} layers keep at most their {local.Window:N0}-token window, so longer requests hold less)")
            : string.Empty;

    // The front end's time each request spends before the chips see it, where there is one: its median, and its P99 where it spreads.
    private static string FrontEnd(ServingDeployment deployment) => deployment.FrontEnd switch
    {
        { Median.Seconds: <= 0 } => string.Empty,
        { Spreads: true } front => $"; front end {front.Median} per request (P99 {front.P99})",
        var front => $"; front end {front.Median} per request",
    };
}
