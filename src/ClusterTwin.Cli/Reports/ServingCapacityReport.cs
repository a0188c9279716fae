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
            ttftObjectiveSeconds = ServingObjectives.Bounded(scenario.Objectives.TimeToFirstToken),
            tpotObjectiveSeconds = ServingObjectives.Bounded(scenario.Objectives.TimePerOutputToken),
            capacityRequestsPerSecond = capacity.Capacity?.Rate,
            ceilingRequestsPerSecond = capacity.Ceiling?.Rate,
            unbounded = capacity.Unbounded,
            refusedAtAnyRate = capacity.RefusedAtAnyRate,
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
        var share = Format.Percent(capacity.Attainment);
        var goal = $"at least {share} of the requests {ObjectivesText.Goal(scenario.Objectives)}";
        var lowest = capacity.Probes[0];
        return (capacity.Capacity, capacity.Ceiling) switch
        {
            (null, _) when capacity.RefusedAtAnyRate =>
                $"No rate can meet the objectives ({goal}): {Format.Percent(CapacitySearch.RefusedShare(lowest.Result))} of the requests are refused at any rate, each larger than a replica's key-value cache (more tensor parallelism, a narrower cache precision, or shorter requests).",
            (null, _) =>
                $"No rate tried meets the objectives ({goal}): at {Format.Number(lowest.Rate)} requests/s, the lightest load tried, {Format.Percent(lowest.Result.Attainment)} of the requests meet them (a faster deployment, or looser objectives).",
            ({ } best, null) =>
                $"Every rate tried meets the objectives ({goal}), up to {Format.Number(best.Rate)} requests/s ({Format.Number(best.Result.OutputTokensPerSecond)} output tokens/s): they bind at no load the search reached, where the scenario's {Format.Count(scenario.Workload.Requests)} requests arrive almost at once.",
            ({ } best, { } above) =>
                $"Capacity: [bold]{Format.Number(best.Rate)} requests/s[/] ({Format.Number(best.Result.OutputTokensPerSecond)} output tokens/s, {Format.Number(best.Result.OutputTokensPerSecond / best.Result.Chips)} per chip), the highest rate at which {goal}; at {Format.Number(above.Rate)} requests/s, {Format.Percent(above.Result.Attainment)} do.",
        };
    }

    // The scenario as run at the capacity, for serve's own report.
    private static ServingScenario AtRate(ServingScenario scenario, double rate) =>
        scenario with { Name = $"{scenario.Name} at {Format.Number(rate)} requests/s", Workload = scenario.Workload with { Rate = rate } };

    private static string Seconds(double seconds) => Duration.FromSeconds(seconds).ToString();
}
