using System.Collections.Immutable;
using System.Globalization;
using System.Text;
using ClusterTwin.Catalog;
using ClusterTwin.Planning;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The outputs of <c>train-search</c>: the cluster each system needs for the deadline, then every size tried.</summary>
public static class SizeSearchReport
{
    private static readonly string[] ChosenHeaders = ["cluster", "chips", "layout", "MFU", "time to train (range)", "run cost (range)", "run energy (IT)", "calibration", "note"];

    private static readonly string[] TriedHeaders = ["cluster", "chips", "layout", "step", "MFU", "time to train (range)", "run cost", "meets the deadline", "note"];

    /// <summary>Writes the console report.</summary>
    public static void Write(IAnsiConsole console, TrainingSearchScenario scenario, ImmutableArray<SizeOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(scenario);
        console.Write(new Rule($"[bold]{Markup.Escape(scenario.Name)}[/]").LeftJustified());
        console.MarkupLine(Markup.Escape(Job(scenario)));
        console.MarkupLine(Markup.Escape(Objective(scenario)));
        if (!Found(outcomes))
        {
            console.MarkupLine("[red bold]No cluster meets the deadline.[/] The notes say why each falls short: allow more chips (search.max_chips), other systems or a lower precision, or a later deadline.");
        }

        var (headers, rows) = Chosen(outcomes, scenario.Settings);
        console.Write(Tables.Console("The cluster each system needs", headers, rows));
        console.Write(Tables.Console("Every size tried", TriedHeaders, Tried(outcomes, scenario.Settings)));
        foreach (var note in Notes(outcomes))
        {
            console.MarkupLine(Markup.Escape(note));
        }
    }

    /// <summary>The markdown page.</summary>
    public static string Markdown(TrainingSearchScenario scenario, ImmutableArray<SizeOutcome> outcomes, string scenarioPath)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(scenarioPath);
        var page = new StringBuilder();
        Tables.AppendSearchPageHead(page, scenario.Name, "train-search", scenarioPath, $"{Job(scenario)} {Objective(scenario)}", scenario.Description);

        page.AppendLine("## The cluster each system needs");
        page.AppendLine();
        if (!Found(outcomes))
        {
            page.AppendLine("**No cluster meets the deadline.** The notes say why each falls short.");
            page.AppendLine();
        }

        var (headers, rows) = Chosen(outcomes, scenario.Settings);
        Tables.AppendMarkdown(page, headers, rows);
        page.AppendLine();
        page.AppendLine("## Every size tried");
        page.AppendLine();
        Tables.AppendMarkdown(page, TriedHeaders, Tried(outcomes, scenario.Settings));
        page.AppendLine();
        foreach (var note in Notes(outcomes))
        {
            page.AppendLine("- " + note);
        }

        return page.ToString();
    }

    /// <summary>The JSON document.</summary>
    public static object Document(TrainingSearchScenario scenario, ImmutableArray<SizeOutcome> outcomes)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var settings = scenario.Settings;
        return new
        {
            scenario = scenario.Name,
            deadlineSeconds = settings.Deadline.Seconds,
            deadlineAt = settings.DeadlineAt == DeadlineBasis.SlowEnd ? "p90" : "prediction",
            objective = settings.Objective == SizeObjective.Chips ? "chips" : "cost",
            maxChips = settings.MaximumChips,
            clusters = outcomes.Select(outcome => new
            {
                system = outcome.Candidate.Template.Cluster.System.Id,
                precision = outcome.Candidate.Template.Job.Format.Key,
                fabric = outcome.Candidate.Template.Cluster.Fabric.Id,
                framework = outcome.Candidate.Template.Framework.Id,
                calibration = Format.Calibration(outcome.Candidate.Template.Efficiency, brief: true),
                meets = outcome.Chosen is not null,
                why = outcome.Why,
                rankedByChipsForWantOfPrice = outcome.Unpriced,
                leastChipsAtPeak = outcome.LeastChipsAtPeak,
                sizesBelowPeakBound = outcome.BelowPeakBound,
                chosen = outcome.Chosen is { } chosen ? Size(chosen, settings) : null,
                tried = outcome.Tried.Select(size => Size(size, settings)),
            }),
        };
    }

    /// <summary>Whether any kind of cluster meets the deadline.</summary>
    public static bool Found(ImmutableArray<SizeOutcome> outcomes) => outcomes.Any(outcome => outcome.Chosen is not null);

    private static object Size(SizedCluster size, SizeSearchSettings settings)
    {
        var result = size.Best?.Result;
        return new
        {
            systems = size.Systems,
            chips = size.Chips,
            plan = size.Best is { } best ? SimulationJson.Plan(best.Plan) : null,
            why = size.Best is null ? size.Search.WhyNoLayout() : (ImmutableArray<string>?)null,
            meets = size.Meets(settings.Deadline, settings.DeadlineAt),
            stepTimeSeconds = result?.StepTime.Seconds,
            stepTimeBandSeconds = result is null ? null : new { low = result.StepTimeLow.Seconds, high = result.StepTimeHigh.Seconds },
            mfu = result?.ModelFlopsUtilization,
            steps = size.Steps,
            timeToTrainSeconds = size.FaultFreeTimeToTrain?.Seconds,
            timeToTrainBandSeconds = result is null || size.Steps is not { } steps ? null : new { low = result.StepTimeLow.Seconds * steps, high = result.StepTimeHigh.Seconds * steps },
            run = size.Run is { } run ? SimulationJson.Run(run, result!) : null,
            runCostDollars = size.RunCost?.Dollars,
            runCostBandDollars = size.RunCostLow is { } cheapest ? new { low = cheapest.Dollars, high = size.RunCostHigh?.Dollars } : null,
            runEnergyJoules = size.RunEnergy?.Joules,
            priceIds = result?.Cost?.PriceIds,
        };
    }

    private static string Job(TrainingSearchScenario scenario)
    {
        var template = scenario.Candidates[0].Template;
        var job = template.Job;
        return string.Create(CultureInfo.InvariantCulture,
            $"{template.Model.Name}, sequence {job.SequenceLength:N0}, global batch {job.GlobalBatchSize:N0}, {Format.Number(job.TokensToTrain ?? 0)} tokens; each cluster in the format it names.");
    }

    private static string Objective(TrainingSearchScenario scenario)
    {
        var settings = scenario.Settings;
        var interrupted = scenario.Candidates.Any(candidate => candidate.Template.Resilience is not null);
        var basis = settings.DeadlineAt != DeadlineBasis.SlowEnd ? string.Empty
            : interrupted ? " at the slow end of its range (the step's P90 with the most frequent interruptions and the slowest recovery the figures allow)"
            : " at the slow end of its band (P90 step time)";
        var rank = settings.Objective == SizeObjective.Chips ? "the fewest chips" : "the cheapest run (a system the catalogue cannot price: the fewest chips)";
        return $"Each system is sized for a run that ends within {RunLength.Of(settings.Deadline)}{basis}, each size at the fastest layout that fits; the clusters that do are ranked by {rank}.";
    }

    /// <summary>
    /// What a chosen cluster's row must add: that it is sized by chips for want of a price, or that its run misses the
    /// deadline at the band's slow end; empty otherwise.
    /// </summary>
    private static string Note(SizeOutcome outcome, SizeSearchSettings settings)
    {
        var chosen = outcome.Chosen!;
        var notes = new List<string>();
        if (outcome.Unpriced)
        {
            notes.Add("no price: the fewest chips that meet the deadline");
        }

        if (settings.DeadlineAt == DeadlineBasis.Prediction && (chosen.TimeToTrainHigh is not { } slow || slow > settings.Deadline))
        {
            var slowEnd = chosen.TimeToTrainHigh is { } high ? RunLength.Of(high) : "never finishes";
            notes.Add($"in time as predicted, not at the band's slow end ({slowEnd}): search.deadline_at: p90 sizes for it");
        }

        return string.Join("; ", notes);
    }

    /// <summary>The chosen clusters' table; its note column only where some cluster has a note.</summary>
    private static (string[] Headers, IEnumerable<string[]> Rows) Chosen(ImmutableArray<SizeOutcome> outcomes, SizeSearchSettings settings)
    {
        var rows = outcomes.Select(outcome => ChosenCells(outcome, settings)).ToArray();
        return rows.Any(row => row[^1].Length > 0) ? (ChosenHeaders, rows) : (ChosenHeaders[..^1], rows.Select(row => row[..^1]));
    }

    private static string[] ChosenCells(SizeOutcome outcome, SizeSearchSettings settings)
    {
        var template = outcome.Candidate.Template;
        var name = Name(outcome);
        var calibration = Format.Calibration(template.Efficiency, brief: true);
        if (outcome.Chosen is not { Best: { } best } chosen)
        {
            return [name, "-", "-", "-", "-", "-", "-", calibration, outcome.Why ?? string.Empty];
        }

        var result = best.Result;
        return
        [
            name,
            Chips(chosen),
            PlanDescription.Of(best.Plan),
            Format.Percent(result.ModelFlopsUtilization),
            TimeToTrain(chosen),
            result.Cost is { } cost ? RunText.Cost(chosen.RunCost!.Value, chosen.RunCostLow, chosen.RunCostHigh) + Format.UnpublishedPrice(cost.PriceStatus) : "n/a",
            chosen.RunEnergy?.ToString() ?? "n/a",
            calibration,
            Note(outcome, settings),
        ];
    }

    private static IEnumerable<string[]> Tried(ImmutableArray<SizeOutcome> outcomes, SizeSearchSettings settings) =>
        outcomes.SelectMany(outcome => outcome.Tried.Select(size =>
        {
            var name = Name(outcome);
            if (size.Best is not { } best)
            {
                return new[] { name, Chips(size), "none", "-", "-", "-", "-", "no", size.Search.WhyNoLayout()[0] };
            }

            var chosen = ReferenceEquals(size, outcome.Chosen) ? "chosen" : string.Empty;
            return
            [
                name,
                Chips(size),
                PlanDescription.Of(best.Plan),
                best.Result.StepTime.ToString(),
                Format.Percent(best.Result.ModelFlopsUtilization),
                TimeToTrain(size),
                size.RunCost?.ToString() ?? (size.Run is { Expected: null } ? "never ends" : "n/a"),
                size.Meets(settings.Deadline, settings.DeadlineAt) ? "yes" : "no",
                chosen,
            ];
        }));

    private static IEnumerable<string> Notes(ImmutableArray<SizeOutcome> outcomes)
    {
        foreach (var outcome in outcomes.Where(outcome => outcome.Chosen is not null))
        {
            var result = outcome.Chosen!.Best!.Result;
            var price = result.Cost is { } cost ? cost.Description + Format.UnpublishedPrice(cost.PriceStatus) : result.CostMissing ?? "no price";
            yield return $"{Name(outcome)}: priced at {price}; on {outcome.Candidate.Template.Framework.Name}.";
        }

        foreach (var outcome in outcomes.Where(outcome => outcome.BelowPeakBound > 0))
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"{Name(outcome)}: {outcome.BelowPeakBound} sizes of the ladder below {Math.Ceiling(outcome.LeastChipsAtPeak):N0} chips were skipped: with fewer the run would miss the deadline even at the chip's peak rate.");
        }

        var runs = outcomes.SelectMany(outcome => outcome.Tried).Select(size => size.Run).OfType<Reliability.RunGoodput>().ToArray();
        if (runs.Length == 0)
        {
            yield return "The time to train counts steps only: no failures, restarts or checkpoints. The global batch is held as given at every size (it sets the optimization, not the cluster).";
            yield break;
        }

        var rates = string.Join(", ", runs.Select(run => run.RateSource).Distinct(StringComparer.Ordinal));
        var restarts = string.Join(", ", runs.Select(run => RunLength.Of(run.Restart)).Distinct(StringComparer.Ordinal));
        yield return $"The time to train is the expected wall time with the run's interruptions (docs/reliability.md): a cluster interrupted at its chips' rate, from {rates}; restarting in {restarts}; checkpointing at the interval each row's JSON gives (`run`); its range pairs the step's P10 with the rarest interruptions and its P90 with the most. The run cost pays for the whole wall time; the goodput is the fault-free time over it. The global batch is held as given at every size (it sets the optimization, not the cluster).";
    }

    /// <summary>The kind of cluster as the tables name it: the system, the format it trains in, and the framework where the file names one.</summary>
    private static string Name(SizeOutcome outcome) =>
        $"{outcome.Candidate.Template.Cluster.System.Name}, {outcome.Candidate.Template.Job.Format.Key.ToUpperInvariant()}" +
        (outcome.Candidate.Template.FrameworkNamed ? $", on {outcome.Candidate.Template.Framework.Name}" : string.Empty);

    private static string Chips(SizedCluster size) => size.Systems == 1
        ? Format.Count(size.Chips)
        : string.Create(CultureInfo.InvariantCulture, $"{Format.Count(size.Chips)} ({size.Systems:N0} systems)");

    private static string TimeToTrain(SizedCluster size) => size switch
    {
        { Run: { Expected: null } never } => RunText.Expected(never),
        { Run: { } run } => $"{RunText.Expected(run)}, {Format.Percent(run.Goodput)} goodput",
        { TimeToTrain: { } time } => $"{RunLength.Of(time)} ({RunLength.Of(size.TimeToTrainLow!.Value, time)} - {RunLength.Of(size.TimeToTrainHigh!.Value, time)})",
        _ => "-",
    };
}
