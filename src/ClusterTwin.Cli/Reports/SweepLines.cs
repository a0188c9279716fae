using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using ClusterTwin.Catalog;
using ClusterTwin.Sweeps;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// A sweep's results as JSON Lines: a header naming the sweep (its fingerprint, points and shard), then a line per
/// point in point order. Shards of one sweep merge back into exactly the lines one run of the whole sweep writes.
/// </summary>
public static class SweepLines
{
    /// <summary>What every shard's header of one run of one sweep has alike.</summary>
    private static readonly string[] SameInEveryShard = ["fingerprint", "points", "shards"];

    /// <summary>The figures of a point's line, in the CSV's order.</summary>
    private static readonly string[] Figures = ["valid", "chips", "plan", "stepTimeSeconds", "tokensPerSecond", "modelFlopsUtilization", "memoryPerChipBytes", "fits", "joulesPerToken", "costPerMillionTokens", "timeToTrainSeconds"];

    /// <summary>The header line of <paramref name="shard"/> of <paramref name="sweep"/>.</summary>
    public static string Header(SweepDefinition sweep, SweepShard shard)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return Json.Serialize(new
        {
            sweep = sweep.Name,
            fingerprint = sweep.Fingerprint,
            points = sweep.Points,
            shard = shard.Index,
            shards = shard.Count,
            search = sweep.Search,
            objective = sweep.Search ? sweep.Objective.ToString().ToLowerInvariant() : null,
            fields = sweep.Axes.Select(axis => axis.Path),
        }, indented: false);
    }

    /// <summary>The line of <paramref name="row"/>.</summary>
    public static string Row(SweepRow row)
    {
        ArgumentNullException.ThrowIfNull(row);
        var values = new JsonObject();
        foreach (var (path, value) in row.Values)
        {
            values[path] = value;
        }

        return Json.Serialize(new
        {
            point = row.Point,
            values,
            valid = row.Valid,
            problems = row.Valid ? null : row.Problems.ToArray(),
            chips = row.Chips > 0 ? row.Chips : (long?)null,
            plan = row.Plan,
            stepTimeSeconds = row.Valid ? row.StepTime.Seconds : (double?)null,
            tokensPerSecond = row.Valid ? row.TokensPerSecond : (double?)null,
            modelFlopsUtilization = row.Valid ? row.ModelFlopsUtilization : (double?)null,
            memoryPerChipBytes = row.Valid ? row.MemoryPerChip.Count : (double?)null,
            fits = row.Valid ? row.Fits : (bool?)null,
            joulesPerToken = row.EnergyPerToken?.Joules,
            costPerMillionTokens = row.CostPerMillionTokens?.Dollars,
            timeToTrainSeconds = row.TimeToTrain?.Seconds,
        }, indented: false);
    }

    /// <summary>
    /// Merges the shard files <paramref name="parts"/> of one sweep: every shard once, every point once. The header
    /// and lines returned are those one run of the whole sweep writes. Throws <see cref="InputException"/> naming the
    /// file and what does not fit.
    /// </summary>
    public static (string Header, List<string> Rows) Merge(IReadOnlyList<string> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new InputException("sweep-merge", "no shard files given (expected the files sweep --shard I/N --out wrote, such as parts/*.jsonl)");
        }

        JsonObject? first = null;
        var shardsSeen = new Dictionary<int, string>();
        var rows = new List<(long Point, string Line, string File)>();
        foreach (var part in parts)
        {
            if (!File.Exists(part))
            {
                throw new InputException(part, "shard file not found");
            }

            using var reader = new StreamReader(part, new UTF8Encoding(false, throwOnInvalidBytes: true));
            var header = ParseLine(reader.ReadLine(), part, 1) ?? throw new InputException(part, "is empty (expected a sweep's shard, as sweep --shard I/N --out writes it)");
            if (header["fingerprint"] is null || header["shards"] is null || header["shard"] is null)
            {
                throw new InputException(part, "line 1 is not a sweep's header (expected the file sweep --shard I/N --out writes)");
            }

            first ??= header;
            foreach (var key in SameInEveryShard)
            {
                if (!JsonNode.DeepEquals(first[key], header[key]))
                {
                    throw new InputException(part, $"is of another sweep or split than {parts[0]}: its {key} is {header[key]?.ToJsonString()}, not {first[key]?.ToJsonString()} (merge the shards of one run of one sweep file)");
                }
            }

            var shard = header["shard"]!.GetValue<int>();
            if (!shardsSeen.TryAdd(shard, part))
            {
                throw new InputException(part, $"is shard {shard}, as {shardsSeen[shard]} is: give each shard once");
            }

            var number = 1;
            while (reader.ReadLine() is { } line)
            {
                number++;
                var row = ParseLine(line, part, number);
                if (row?["point"] is not { } point)
                {
                    throw new InputException(part, $"line {number} is not a point's line");
                }

                rows.Add((point.GetValue<long>(), line, part));
            }
        }

        var shards = first!["shards"]!.GetValue<int>();
        var points = first["points"]!.GetValue<long>();
        var missingShards = Enumerable.Range(0, shards).Where(shard => !shardsSeen.ContainsKey(shard)).ToArray();
        if (missingShards.Length > 0)
        {
            throw new InputException("sweep-merge", $"shards {string.Join(", ", missingShards.Take(10))}{(missingShards.Length > 10 ? ", ..." : string.Empty)} of {shards} are missing");
        }

        rows.Sort((one, other) => one.Point.CompareTo(other.Point));
        for (var index = 0; index < rows.Count; index++)
        {
            if (rows[index].Point != index)
            {
                var problem = index > 0 && rows[index].Point == rows[index - 1].Point
                    ? $"point {rows[index].Point} appears twice (in {rows[index - 1].File} and {rows[index].File})"
                    : $"point {index} is missing: a shard stopped early (run it again)";
                throw new InputException("sweep-merge", problem);
            }
        }

        if (rows.Count != points)
        {
            throw new InputException("sweep-merge", $"{rows.Count:N0} points of {points:N0}: points {rows.Count} onward are missing (a shard stopped early: run it again)");
        }

        first["shard"] = 0;
        first["shards"] = 1;
        return (first.ToJsonString(), [.. rows.Select(row => row.Line)]);
    }

    private static JsonObject? ParseLine(string? line, string file, int number)
    {
        if (line is null)
        {
            return null;
        }

        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new InputException(file, $"line {number} is not a JSON object");
        }
        catch (JsonException error)
        {
            throw new InputException(file, $"line {number} is not JSON: {error.Message}");
        }
    }

    /// <summary>The rows as CSV: the point, each field's value, then the figures, one row per point.</summary>
    public static string Csv(string header, IEnumerable<string> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var fields = JsonNode.Parse(header)!["fields"]!.AsArray().Select(field => field!.GetValue<string>()).ToArray();
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', fields.Prepend("point").Concat(Figures).Append("problems").Select(Quoted)));
        foreach (var line in rows)
        {
            var row = JsonNode.Parse(line)!.AsObject();
            var cells = new List<string> { row["point"]!.ToJsonString() };
            cells.AddRange(fields.Select(field => row["values"]?[field]?.GetValue<string>() ?? string.Empty));
            cells.AddRange(Figures.Select(figure => row[figure] is { } value ? (value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString()) : string.Empty));
            cells.Add(row["problems"] is JsonArray problems ? string.Join("; ", problems.Select(problem => problem!.GetValue<string>())) : string.Empty);
            text.AppendLine(string.Join(',', cells.Select(Quoted)));
        }

        return text.ToString();
    }

    private static string Quoted(string cell) =>
        cell.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
}
