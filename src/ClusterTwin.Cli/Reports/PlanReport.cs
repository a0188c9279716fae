using ClusterTwin.Engines;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The human-readable report of <c>plan</c>.</summary>
public static class PlanReport
{
    /// <summary>The share of the chip's memory above which the best layout is called tight (docs/plan-search.md's margin of 10-15%).</summary>
    private const double TightMemory = 0.9;

    /// <summary>Writes the ranked layouts, the search's counts and the explanation.</summary>
    public static void Write(IAnsiConsole console, Scenario scenario, PlanSearchResult search, TimeSpan elapsed, TrainingStepResult? given)
    {
        var cluster = scenario.Cluster;
        console.Write(new Rule($"[bold]Plan search: {Markup.Escape(scenario.Name)}[/]").LeftJustified());
        SimulationReport.WriteCluster(console, cluster);
        console.MarkupLineInterpolated($"Model:   {scenario.Model.Name}, sequence {scenario.Job.SequenceLength:N0}, global batch {scenario.Job.GlobalBatchSize:N0}, {scenario.Job.Format.Key.ToUpperInvariant()}, on {scenario.Framework.Name}{SimulationReport.RoutingNote(scenario)}{SimulationReport.ReductionNote(scenario)}");
        if (cluster.Chip.Ranks > 1)
        {
            console.MarkupLineInterpolated($"Ranks:   {cluster.Chip.Ranks} per {cluster.Chip.Name} (one per device its runtime exposes): tensor parallelism below counts chips, the framework's degree is {cluster.Chip.Ranks} times it");
        }

        console.MarkupLineInterpolated($"Searched {Format.Count(search.Considered)} combinations in {elapsed.TotalSeconds:0.00} s: {Format.Count(search.PrunedLayout)} are not layouts, {Format.Count(search.PrunedMemory)} do not fit in memory, {Format.Count(search.PrunedOther)} rejected otherwise, [bold]{Format.Count(search.Evaluated)} evaluated[/]{(search.FitByOffloading > 0 ? $" ({Format.Count(search.FitByOffloading)} fit by offloading activations to the host)" : string.Empty)}.");
        console.WriteLine();
        if (search.Plans.IsEmpty)
        {
            console.MarkupLine("[red bold]No layout both divides and fits.[/] Pin fewer fields, add chips or headroom, or lower the micro-batch or sequence length.");
            foreach (var reason in search.Rejections)
            {
                console.MarkupLineInterpolated($"  [red]-[/] {reason}");
            }

            return;
        }

        var objective = search.Objective switch { PlanObjective.Energy => "energy per step", PlanObjective.Cost => "cost per step", _ => "step time" };
        var priced = search.Objective != PlanObjective.Time;
        var table = new Table().Border(TableBorder.Rounded).Title($"Best layouts by {objective}");
        table.AddColumn("#");
        foreach (var (name, _) in PlanDescription.Fields(search.Plans[0].Plan))
        {
            table.AddColumn(new TableColumn(name).RightAligned());
        }

        // The schedule has a column where any layout shown runs another than 1F1B.
        var schedules = search.Plans.Any(ranked => ranked.Plan.Schedule != PipelineScheduleKind.OneForwardOneBackward);
        if (schedules)
        {
            table.AddColumn(new TableColumn("schedule").RightAligned());
        }

        // Ranked by energy or cost, those figures replace throughput and the largest part (the table keeps its width).
        string[] measures = priced ? ["step", "J/token", "$/M tokens", "memory/chip"] : ["step", "tokens/s", "MFU", "memory/chip"];
        foreach (var measure in measures)
        {
            table.AddColumn(new TableColumn(measure).RightAligned());
        }

        if (!priced)
        {
            table.AddColumn("largest part");
        }

        var rank = 0;
        foreach (var ranked in search.Plans)
        {
            var result = ranked.Result;
            var cells = new List<string> { (++rank).ToString(System.Globalization.CultureInfo.InvariantCulture) };
            cells.AddRange(PlanDescription.Fields(ranked.Plan).Select(field => field.Value));
            if (schedules)
            {
                cells.Add(PipelineScheduleKeys.Key(ranked.Plan.Schedule));
            }
            cells.Add(result.StepTime.ToString());
            cells.Add(priced ? result.Energy?.ItPerToken.ToString() ?? "n/a" : Format.Number(result.TokensPerSecond));
            cells.Add(priced ? result.Cost?.PerMillionTokens.ToString() ?? "n/a" : Format.Percent(result.ModelFlopsUtilization));
            cells.Add(Format.Percent(result.Memory!.Total.Count / result.MemoryCapacity.Count));
            if (!priced)
            {
                var largest = result.Breakdown!.Largest;
                cells.Add($"{largest.Name} {Format.Percent(largest.Time / result.StepTime)}");
            }

            table.AddRow(cells.Select(Markup.Escape).ToArray());
        }

        console.Write(table);
        // The parts some ranked layout spends time in: a column of zeros (no experts, no offload, no throttling) is left out.
        var rows = search.Plans.Select(ranked => ranked.Result.Breakdown!.Parts().ToArray()).ToArray();
        var shown = Enumerable.Range(0, rows[0].Length).Where(part => rows.Any(row => row[part].Time > Duration.Zero)).ToArray();
        var parts = new Table().Border(TableBorder.Rounded).Title("Where each step goes (the parts that take time)");
        parts.AddColumn("#");
        foreach (var part in shown)
        {
            parts.AddColumn(new TableColumn(rows[0][part].Name).RightAligned());
        }

        rank = 0;
        foreach (var row in rows)
        {
            parts.AddRow([(++rank).ToString(System.Globalization.CultureInfo.InvariantCulture), .. shown.Select(part => row[part].Time.ToString())]);
        }

        console.Write(parts);
        var explanation = search.Explanation!;
        console.MarkupLineInterpolated($"[bold]Why:[/] the best layout is {explanation.Summary}.");
        if (explanation.RunnerUp is { } runnerUp)
        {
            console.MarkupLineInterpolated($"[bold]Trade:[/] {runnerUp}.");
        }

        var bestResult = search.Plans[0].Result;
        if (bestResult.Memory is { } memory && memory.Total / bestResult.MemoryCapacity > TightMemory)
        {
            console.MarkupLineInterpolated($"[yellow]Tight:[/] the best layout uses {Format.Percent(memory.Total / bestResult.MemoryCapacity)} of the chip's memory, which leaves the allocator's fragmentation and the framework's own buffers little room: a larger --memory-headroom (10 or more) keeps that share free.");
        }

        console.MarkupLineInterpolated($"[bold]As a scenario:[/] {PlanDescription.ScenarioBlock(search.Plans[0].Plan)}");

        if (given is { Valid: true } && given.Breakdown is not null)
        {
            var best = search.Plans[0].Result.StepTime;
            console.MarkupLineInterpolated($"[bold]Against the scenario's plan[/] ({PlanDescription.Of(scenario.Plan)}): {given.StepTime} per step, the best is {Format.Percent(1 - (best / given.StepTime))} faster.");
        }
    }
}
