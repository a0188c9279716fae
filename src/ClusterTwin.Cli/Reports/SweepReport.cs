using System.Diagnostics;
using System.Globalization;
using ClusterTwin.Sweeps;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// <c>sweep</c>'s table: a row per point, each varied field's value and its figures (a training point's step, a
/// serving point's throughput and latencies), then the best points.
/// </summary>
public static class SweepReport
{
    /// <summary>What a training point's columns and best points are.</summary>
    private static readonly Kind Training = new(
        ["Step", "Tokens/s", "MFU", "Memory per chip", "Energy per token", "Cost per million tokens"],
        row => [row.StepTime.ToString(), Format.Number(row.TokensPerSecond), Format.Percent(row.ModelFlopsUtilization),
            row.Fits ? row.MemoryPerChip.ToString() : $"[red]{row.MemoryPerChip} (over)[/]", row.EnergyPerToken?.ToString() ?? "-", row.CostPerMillionTokens?.ToString() ?? "-"],
        [("the most tokens per second", row => -row.TokensPerSecond), ("the least energy per token", row => row.EnergyPerToken?.Joules), ("the least cost per million tokens", row => row.CostPerMillionTokens?.Dollars)],
        row => $"{Format.Number(row.TokensPerSecond)} tokens per second, {row.EnergyPerToken?.ToString() ?? "-"} per token, {row.CostPerMillionTokens?.ToString() ?? "-"} per million tokens");

    /// <summary>What a serving point's columns and best points are.</summary>
    private static readonly Kind Serving = new(
        ["Output tokens/s", "Goodput (req/s)", "Within objectives", "First token P50 / P99", "Per token P50 / P99", "Energy per output token", "Cost per million output tokens"],
        row => row.Serving is not { } served ? [] : [Format.Number(served.OutputTokensPerSecond), Format.Number(served.Goodput), Format.Percent(served.Attainment),
            $"{served.TimeToFirstToken.P50} / {served.TimeToFirstToken.P99}", $"{served.TimePerOutputToken.P50} / {served.TimePerOutputToken.P99}",
            served.EnergyPerOutputToken?.ToString() ?? "-", served.CostPerMillionOutputTokens?.ToString() ?? "-"],
        [("the most goodput", row => -row.Serving?.Goodput), ("the least energy per output token", row => row.Serving?.EnergyPerOutputToken?.Joules),
            ("the least cost per million output tokens", row => row.Serving?.CostPerMillionOutputTokens?.Dollars)],
        row => $"{Format.Number(row.Serving!.OutputTokensPerSecond)} output tokens per second, goodput {Format.Number(row.Serving.Goodput)} requests per second, {row.Serving.EnergyPerOutputToken?.ToString() ?? "-"} and {row.Serving.CostPerMillionOutputTokens?.ToString() ?? "-"} per output token and million output tokens");

    /// <summary>What an RL post-training point's columns and best points are.</summary>
    private static readonly Kind Reinforcement = new(
        ["Step", "Generation", "Scoring and training", "Weight update", "Offload", "Generation share", "Trained tokens/s per chip", "Energy per trained token", "Cost per million trained tokens"],
        row => row.Reinforcement is not { } step ? [] : [step.StepTime.ToString(), step.GenerationTime.ToString(), step.TrainerTime.ToString(), step.WeightUpdateTime.ToString(),
            step.OffloadTime.ToString(), Format.Percent(step.GenerationShare), Format.Number(step.TrainedTokensPerSecondPerChip), step.EnergyPerTrainedToken?.ToString() ?? "-", step.CostPerMillionTrainedTokens?.ToString() ?? "-"],
        [("the most trained tokens per second per chip", row => -row.Reinforcement?.TrainedTokensPerSecondPerChip), ("the least energy per trained token", row => row.Reinforcement?.EnergyPerTrainedToken?.Joules),
            ("the least cost per million trained tokens", row => row.Reinforcement?.CostPerMillionTrainedTokens?.Dollars)],
        row => $"a step of {row.Reinforcement!.StepTime}, {Format.Number(row.Reinforcement.TrainedTokensPerSecondPerChip)} trained tokens per second per chip, {row.Reinforcement.EnergyPerTrainedToken?.ToString() ?? "-"} per trained token, {row.Reinforcement.CostPerMillionTrainedTokens?.ToString() ?? "-"} per million trained tokens");

    /// <summary>What a shared cluster's point's columns and best points are.</summary>
    private static readonly Kind Shared = new(
        ["Sharing adds (chip-weighted)", "Most slowed job", "Its slowdown", "Most, phases aligned", "Tokens/s, all jobs"],
        row => row.Shared is not { } shared ? [] : [EventLevelReport.Signed(shared.ChipWeightedSlowdown), Markup.Escape(shared.MostSlowedJob), EventLevelReport.Signed(shared.MostSlowdown),
            EventLevelReport.Signed(shared.MostAlignedSlowdown), Format.Number(shared.TokensPerSecond)],
        [("the least chip-weighted slowdown", row => row.Shared?.ChipWeightedSlowdown), ("the least slowdown of the most slowed job", row => row.Shared?.MostSlowdown),
            ("the most tokens per second", row => -row.Shared?.TokensPerSecond)],
        row => $"sharing adds {EventLevelReport.Signed(row.Shared!.ChipWeightedSlowdown)} to the jobs' chip-time, " +
            (row.Shared.MostSlowedJob == "none" ? "slowing no job" : $"{EventLevelReport.Signed(row.Shared.MostSlowdown)} to {row.Shared.MostSlowedJob}'s step") +
            $" ({EventLevelReport.Signed(row.Shared.MostAlignedSlowdown)} at most with phases aligned), {Format.Number(row.Shared.TokensPerSecond)} tokens per second in all");

    /// <summary>Writes up to <paramref name="most"/> of <paramref name="rows"/>, how many there were, and the best.</summary>
    public static void Write(IAnsiConsole console, SweepDefinition sweep, SweepShard shard, IEnumerable<SweepRow> rows, int most, Stopwatch clock)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(clock);
        var kind = sweep.Reinforcement ? Reinforcement : sweep.Shared ? Shared : sweep.Serving ? Serving : Training;
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{Markup.Escape(sweep.Name)}: {sweep.Points:N0} points{(sweep.Search ? $", each at its best layout ({sweep.Objective.ToString().ToLowerInvariant()})" : string.Empty)}");
        table.AddColumn(new TableColumn("Point").RightAligned());
        foreach (var axis in sweep.Axes)
        {
            table.AddColumn(Markup.Escape(axis.Path));
        }

        foreach (var column in kind.Columns)
        {
            table.AddColumn(new TableColumn(column).RightAligned());
        }

        var last = sweep.Serving || sweep.Reinforcement || sweep.Shared ? null : sweep.Search ? "Best layout" : "Time to train";
        if (last is not null)
        {
            table.AddColumn(last);
        }

        var (count, valid) = (0L, 0L);
        var best = new Dictionary<string, SweepRow>();
        foreach (var row in rows)
        {
            (count, valid) = (count + 1, valid + (row.Valid ? 1 : 0));
            if (row.Valid && (sweep.Reinforcement || sweep.Shared || (sweep.Serving ? row.Serving!.Attainment >= sweep.Attainment : row.Fits)))
            {
                foreach (var (what, figure) in kind.Best)
                {
                    Keep(best, what, row, figure);
                }
            }

            if (count > most)
            {
                continue;
            }

            var cells = new List<string> { row.Point.ToString(CultureInfo.InvariantCulture) };
            cells.AddRange(row.Values.Select(value => Markup.Escape(value.Value)));
            if (!row.Valid)
            {
                cells.Add($"[grey]{Markup.Escape(string.Join("; ", row.Problems))}[/]");
                cells.AddRange(Enumerable.Repeat("-", kind.Columns.Length - 1 + (last is null ? 0 : 1)));
            }
            else
            {
                cells.AddRange(kind.Cells(row));
                if (last is not null)
                {
                    cells.Add(Markup.Escape(sweep.Search ? row.Degrees ?? "-" : row.TimeToTrain is { } time ? (time.Seconds >= 86400 ? $"{time.Seconds / 86400:0.0} days" : time.ToString()) : "-"));
                }
            }

            table.AddRow(cells.ToArray());
        }

        console.Write(table);
        var scope = shard.Count > 1 ? $" of shard {shard}" : string.Empty;
        foreach (var (what, row) in kind.Best.Where(figure => best.ContainsKey(figure.What)).Select(figure => (figure.What, best[figure.What])))
        {
            var values = string.Join(", ", row.Values.Select(value => $"{value.Path} {value.Value}"));
            console.MarkupLine(Markup.Escape($"Of the points{scope} {(sweep.Serving ? $"that meet their objectives for {Format.Percent(sweep.Attainment)} of requests" : sweep.Reinforcement || sweep.Shared ? "that run" : "that fit")}, {what}: point {row.Point} ({values}): {kind.Summary(row)}."));
        }

        if (best.Count == 0 && valid > 0)
        {
            console.MarkupLine(Markup.Escape(sweep.Serving ? $"No point meets its objectives for {Format.Percent(sweep.Attainment)} of requests." : "No point fits in its chips' memory."));
        }

        var shown = count > most ? $"; the first {most:N0} shown (--out FILE writes every one, --json prints them)" : string.Empty;
        console.MarkupLine($"{count:N0} points{(shard.Count > 1 ? $" (shard {shard})" : string.Empty)}, {valid:N0} with {(sweep.Serving ? "a run" : "a step")}, in {clock.Elapsed.TotalSeconds:0.0} s{shown}.");
    }

    /// <summary>Keeps <paramref name="row"/> as the best for <paramref name="what"/> where its <paramref name="figure"/> is known and lower (the first point on a tie; a figure to maximize goes in negated).</summary>
    private static void Keep(Dictionary<string, SweepRow> best, string what, SweepRow row, Func<SweepRow, double?> figure)
    {
        if (figure(row) is { } value && (!best.TryGetValue(what, out var kept) || value < figure(kept)!.Value))
        {
            best[what] = row;
        }
    }

    /// <summary>A kind of point's columns, cells, best points and summary line.</summary>
    private sealed record Kind(string[] Columns, Func<SweepRow, string[]> Cells, (string What, Func<SweepRow, double?> Figure)[] Best, Func<SweepRow, string> Summary);
}
