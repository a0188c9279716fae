using System.Diagnostics;
using ClusterTwin.Sweeps;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary><c>sweep</c>'s table: a row per point, each varied field's value and the step's figures.</summary>
public static class SweepReport
{
    /// <summary>Writes up to <paramref name="most"/> of <paramref name="rows"/>, and how many there were.</summary>
    public static void Write(IAnsiConsole console, SweepDefinition sweep, SweepShard shard, IEnumerable<SweepRow> rows, int most, Stopwatch clock)
    {
        ArgumentNullException.ThrowIfNull(console);
        ArgumentNullException.ThrowIfNull(sweep);
        ArgumentNullException.ThrowIfNull(rows);
        ArgumentNullException.ThrowIfNull(clock);
        var table = new Table().Border(TableBorder.Rounded)
            .Title($"{Markup.Escape(sweep.Name)}: {sweep.Points:N0} points{(sweep.Search ? $", each at its best layout ({sweep.Objective.ToString().ToLowerInvariant()})" : string.Empty)}");
        table.AddColumn(new TableColumn("Point").RightAligned());
        foreach (var axis in sweep.Axes)
        {
            table.AddColumn(Markup.Escape(axis.Path));
        }

        table.AddColumn(new TableColumn("Step").RightAligned()).AddColumn(new TableColumn("Tokens/s").RightAligned()).AddColumn(new TableColumn("MFU").RightAligned())
            .AddColumn(new TableColumn("Memory per chip").RightAligned()).AddColumn(new TableColumn("Energy per token").RightAligned())
            .AddColumn(new TableColumn("Cost per million tokens").RightAligned()).AddColumn(sweep.Search ? "Best layout" : "Time to train");
        var (count, valid) = (0L, 0L);
        var best = new Dictionary<string, SweepRow>();
        foreach (var row in rows)
        {
            (count, valid) = (count + 1, valid + (row.Valid ? 1 : 0));
            if (row is { Valid: true, Fits: true })
            {
                Keep(best, "the most tokens per second", row, candidate => -candidate.TokensPerSecond);
                Keep(best, "the least energy per token", row, candidate => candidate.EnergyPerToken?.Joules);
                Keep(best, "the least cost per million tokens", row, candidate => candidate.CostPerMillionTokens?.Dollars);
            }

            if (count > most)
            {
                continue;
            }

            var cells = new List<string> { row.Point.ToString(System.Globalization.CultureInfo.InvariantCulture) };
            cells.AddRange(row.Values.Select(value => Markup.Escape(value.Value)));
            if (!row.Valid)
            {
                cells.Add($"[grey]{Markup.Escape(string.Join("; ", row.Problems))}[/]");
                cells.AddRange(Enumerable.Repeat("-", 6));
            }
            else
            {
                cells.AddRange([row.StepTime.ToString(), Format.Number(row.TokensPerSecond), Format.Percent(row.ModelFlopsUtilization),
                    row.Fits ? row.MemoryPerChip.ToString() : $"[red]{row.MemoryPerChip} (over)[/]", row.EnergyPerToken?.ToString() ?? "-", row.CostPerMillionTokens?.ToString() ?? "-",
                    Markup.Escape(sweep.Search ? row.Degrees ?? "-" : row.TimeToTrain is { } time ? (time.Seconds >= 86400 ? $"{time.Seconds / 86400:0.0} days" : time.ToString()) : "-")]);
            }

            table.AddRow(cells.ToArray());
        }

        console.Write(table);
        foreach (var (what, row) in best)
        {
            var values = string.Join(", ", row.Values.Select(value => $"{value.Path} {value.Value}"));
            console.MarkupLine(Markup.Escape($"Of the points that fit, {what}: point {row.Point} ({values}): {Format.Number(row.TokensPerSecond)} tokens per second, {(row.EnergyPerToken?.ToString() ?? "-")} per token, {(row.CostPerMillionTokens?.ToString() ?? "-")} per million tokens."));
        }

        var shown = count > most ? $"; the first {most:N0} shown (--out FILE writes every one, --json prints them)" : string.Empty;
        console.MarkupLine($"{count:N0} points{(shard.Count > 1 ? $" (shard {shard})" : string.Empty)}, {valid:N0} with a step, in {clock.Elapsed.TotalSeconds:0.0} s{shown}.");
    }

    /// <summary>Keeps <paramref name="row"/> as the best for <paramref name="what"/> where its <paramref name="figure"/> is known and lower (the first point on a tie; a figure to maximize goes in negated).</summary>
    private static void Keep(Dictionary<string, SweepRow> best, string what, SweepRow row, Func<SweepRow, double?> figure)
    {
        if (figure(row) is { } value && (!best.TryGetValue(what, out var kept) || value < figure(kept)!.Value))
        {
            best[what] = row;
        }
    }
}
