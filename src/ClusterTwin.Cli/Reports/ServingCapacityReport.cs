using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The report of <c>clustertwin serve --capacity</c>: the highest load within the objectives, the rates tried, and the run at capacity.</summary>
public static class ServingCapacityReport
{
    /// <summary>Writes the console report: the answer, the load scan, then <c>serve</c>'s report at the capacity.</summary>
    public static void Write(IAnsiConsole console, ServingScenario scenario, CapacityResult capacity)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(capacity);
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}: capacity[/]").LeftJustified());
        console.MarkupLine(Headline(scenario, capacity));
        console.WriteLine();

        var scan = new Table().Border(TableBorder.Rounded).Title("Load scan (every rate tried, each a full simulation)");
        foreach (var column in new[] { "requests/s", "within objectives", "TTFT P99", "TPOT P99", "output tokens/s", "meets" })
        {
            scan.AddColumn(new TableColumn(column).RightAligned());
        }

        foreach (var probe in capacity.Probes)
        {
            var result = probe.Result;
            var served = result.Completed > 0;
            scan.AddRow(Format.Number(probe.Rate), Format.Percent(result.Attainment),
                served ? Seconds(result.TimeToFirstToken.P99) : "-", served ? Seconds(result.TimePerOutputToken.P99) : "-",
                Format.Number(result.OutputTokensPerSecond), probe.Meets ? "yes" : "[red]no[/]");
        }

        console.Write(scan);
        if (capacity.Capacity is { } best)
        {
            console.WriteLine();
            ServingReport.Write(console, AtRate(scenario, best.Rate), best.Result);
        }
    }

    /// <summary>The JSON document.</summary>
    public static object Document(ServingScenario scenario, CapacityResult capacity)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(capacity);
        return new
        {
            scenario = scenario.Name,
            attainmentTarget = capacity.Attainment,
            ttftObjectiveSeconds = ObjectivesText.Bounded(scenario.Objectives.TimeToFirstToken),
            tpotObjectiveSeconds = ObjectivesText.Bounded(scenario.Objectives.TimePerOutputToken),
            capacityRequestsPerSecond = capacity.Capacity?.Rate,
            ceilingRequestsPerSecond = capacity.Ceiling?.Rate,
            unbounded = capacity.Unbounded,
            probes = capacity.Probes.Select(probe => new
            {
                requestsPerSecond = probe.Rate,
                attainment = probe.Result.Attainment,
                meets = probe.Meets,
                outputTokensPerSecond = probe.Result.OutputTokensPerSecond,
                goodputRequestsPerSecond = probe.Result.Goodput,
                timeToFirstTokenP99Seconds = probe.Result.Completed > 0 ? probe.Result.TimeToFirstToken.P99 : (double?)null,
                timePerOutputTokenP99Seconds = probe.Result.Completed > 0 ? probe.Result.TimePerOutputToken.P99 : (double?)null,
            }),
            atCapacity = capacity.Capacity is { } best ? ServingReport.Document(AtRate(scenario, best.Rate), best.Result) : null,
        };
    }

    private static string Headline(ServingScenario scenario, CapacityResult capacity)
    {
        var goal = $"at least {capacity.Attainment:0.#%} of the requests {ObjectivesText.Goal(scenario.Objectives)}";
        var share = $"{capacity.Attainment:0.#%}";
        var chips = scenario.Pools.Sum(pool => pool.Cluster.ChipCount);
        return (capacity.Capacity, capacity.Ceiling) switch
        {
            (null, var lowest) => $"No rate tried meets the objectives ({goal}): down to {Format.Number(capacity.Probes[0].Rate)} requests/s, {Format.Percent(capacity.Probes[0].Result.Attainment)} of the requests meet them" +
                (lowest is not null && lowest.Result.Refused > 0 ? $", and {Format.Count(lowest.Result.Refused)} of {Format.Count(lowest.Result.Completed + lowest.Result.Refused)} are refused at any rate (larger than a replica's cache)." : ": a request alone misses them (a faster deployment, or looser objectives)."),
            ({ } best, null) => $"Every rate tried meets the objectives ({goal}), up to {Format.Number(best.Rate)} requests/s ({Format.Number(best.Result.OutputTokensPerSecond)} output tokens/s): the simulation reaches no load they bind at.",
            ({ } best, { } above) => $"Capacity: [bold]{Format.Number(best.Rate)} requests/s[/] ({Format.Number(best.Result.OutputTokensPerSecond)} output tokens/s, {Format.Number(best.Result.OutputTokensPerSecond / chips)} per chip), the highest rate at which {goal}; at {Format.Number(above.Rate)} requests/s, {Format.Percent(above.Result.Attainment)} do (the objectives ask {share}).",
        };
    }

    // The scenario as run at the capacity, for serve's own report.
    private static ServingScenario AtRate(ServingScenario scenario, double rate) =>
        scenario with { Name = $"{scenario.Name} at {Format.Number(rate)} requests/s", Workload = scenario.Workload with { Rate = rate } };

    private static string Seconds(double seconds) => Duration.FromSeconds(seconds).ToString();
}
