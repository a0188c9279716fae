using System.Globalization;
using System.Text;
using ClusterTwin.Catalog;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The outputs of <c>serve-search</c>: the cheapest deployment of each system, then every candidate.</summary>
public static class ServingSearchReport
{
    private static readonly string[] Headers = ["deployment", "chips", "replicas", "attainment", "TTFT P90", "TPOT P90", "output tokens/s", "cost / M output tokens", "IT energy / output token", "price"];

    /// <summary>Writes the console report.</summary>
    public static void Write(IAnsiConsole console, ServingSearchScenario scenario, IReadOnlyList<SearchOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(scenario);
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}[/]").LeftJustified());
        console.MarkupLine(Markup.Escape(Objective(scenario)));
        if (Burst(scenario.Workload) is { } burst)
        {
            console.MarkupLine($"[yellow]{Markup.Escape(burst)}[/]");
        }

        if (!Found(outcomes))
        {
            console.MarkupLine("[red bold]No candidate meets the objectives.[/] The notes below say why each falls short: allow more chips (search.max_chips), other systems, tensor or pipeline degrees, precisions or batch limits, or looser objectives.");
        }

        console.Write(Tables.Console("Cheapest deployment of each system", Headers, BestPerSystem(outcomes).Select(Cells)));
        console.Write(Tables.Console("Every candidate", [.. Headers, "note"], outcomes.Select(outcome => (string[])[.. Cells(outcome), Note(outcome)])));
    }

    /// <summary>
    /// A warning where the workload's generated requests all arrive within a second: the deployments are then sized for
    /// a burst the queue absorbs, not for a load sustained long enough to reach its steady state; null otherwise.
    /// </summary>
    internal static string? Burst(RequestWorkload workload)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var span = workload.Arrivals is ArrivalKind.Poisson or ArrivalKind.Bursty && workload.Rate > 0 ? workload.Requests / workload.Rate : double.PositiveInfinity;
        return span < 1
            ? string.Create(CultureInfo.InvariantCulture, $"The {workload.Requests:N0} requests arrive within {Duration.FromSeconds(span)} at {Format.Number(workload.Rate)} requests/s: the search sizes deployments for that burst, not a sustained load (send more requests, or at a lower rate, to reach the steady state).")
            : null;
    }

    /// <summary>The JSON document.</summary>
    public static object Document(ServingSearchScenario scenario, IReadOnlyList<SearchOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        return new
        {
            scenario = scenario.Name,
            attainment = scenario.Settings.Attainment,
            ttftSeconds = ServingObjectives.Bounded(scenario.Objectives.TimeToFirstToken),
            tpotSeconds = ServingObjectives.Bounded(scenario.Objectives.TimePerOutputToken),
            candidates = outcomes.Select(outcome => new
            {
                deployment = outcome.Label,
                system = outcome.System.Id,
                meets = outcome.Meets,
                why = outcome.Why,
                chips = outcome.Chips,
                pools = outcome.Pools.Select(pool => new { system = pool.Cluster.System.Id, chips = pool.Cluster.ChipCount, replicas = pool.WholeReplicas, tensor = pool.TensorParallelism, pipeline = pool.PipelineParallelism, expert = pool.ExpertParallelism }),
                attainment = outcome.Result is null ? (double?)null : outcome.Attainment,
                ttftP90Seconds = outcome.Result?.TimeToFirstToken.P90,
                tpotP90Seconds = outcome.Result?.TimePerOutputToken.P90,
                outputTokensPerSecond = outcome.Result?.OutputTokensPerSecond,
                costPerMillionOutputTokens = outcome.CostPerMillionOutputTokens?.Dollars,
                joulesPerOutputToken = outcome.Result?.EnergyPerOutputToken?.Joules,
            }),
        };
    }

    /// <summary>The markdown page.</summary>
    public static string Markdown(ServingSearchScenario scenario, IReadOnlyList<SearchOutcome> outcomes, string scenarioPath)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var page = new StringBuilder();
        Tables.AppendSearchPageHead(page, scenario.Name, "serve-search", scenarioPath, Objective(scenario), scenario.Description);

        page.AppendLine("## Cheapest deployment of each system");
        page.AppendLine();
        if (!Found(outcomes))
        {
            page.AppendLine("**No candidate meets the objectives.** The notes below say why each falls short.");
            page.AppendLine();
        }

        Tables.AppendMarkdown(page, Headers, BestPerSystem(outcomes).Select(Cells));
        page.AppendLine();
        page.AppendLine("## Every candidate");
        page.AppendLine();
        Tables.AppendMarkdown(page, [.. Headers, "note"], outcomes.Select(outcome => (string[])[.. Cells(outcome), Note(outcome)]));
        return page.ToString();
    }

    private static string Objective(ServingSearchScenario scenario) =>
        $"Each candidate is the fewest replicas for which at least {scenario.Settings.Attainment:0%} of the requests {ObjectivesText.Goal(scenario.Objectives)}, every request simulated; candidates are ranked by cost per million output tokens at this load, idle capacity included.";

    /// <summary>Whether any candidate meets the objectives (the search found a deployment).</summary>
    public static bool Found(IReadOnlyList<SearchOutcome> outcomes) => BestPerSystem(outcomes).Any();

    /// <summary>Each system's cheapest candidate that meets the objectives (disaggregated candidates under their decode system, as their own rows).</summary>
    private static IEnumerable<SearchOutcome> BestPerSystem(IReadOnlyList<SearchOutcome> outcomes) =>
        outcomes.Where(outcome => outcome.Meets).GroupBy(outcome => outcome.Pools.Length > 1 ? outcome.Label : outcome.System.Id).Select(group => group.First());

    private static string[] Cells(SearchOutcome outcome)
    {
        var result = outcome.Result;
        string Seconds(double? value) => value is { } seconds ? Duration.FromSeconds(seconds).ToString() : "-";
        return
        [
            outcome.Label,
            outcome.Pools.IsEmpty ? "-" : Format.Count(outcome.Chips),
            outcome.Pools.IsEmpty ? "-" : string.Join(" + ", outcome.Pools.Select(pool => pool.WholeReplicas.ToString(CultureInfo.InvariantCulture))),
            result is null ? "-" : Format.Percent(outcome.Attainment),
            Seconds(result?.TimeToFirstToken.P90),
            Seconds(result?.TimePerOutputToken.P90),
            result is null ? "-" : Format.Number(result.OutputTokensPerSecond),
            outcome.CostPerMillionOutputTokens?.ToString() ?? "-",
            result?.EnergyPerOutputToken?.ToString() ?? "-",
            result is null ? "-" : string.Join("; ", result.Pools.Select(pool => pool.Cost?.Description ?? "no price")),
        ];
    }

    private static string Note(SearchOutcome outcome) => outcome.Why ?? (outcome.Meets ? string.Empty : "misses the objectives at the most chips allowed");
}
