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
public static partial class SweepLines
{
    /// <summary>What every shard's header of one run of one sweep has alike.</summary>
    private static readonly string[] SameInEveryShard = ["fingerprint", "catalog", "points", "shards"];

    /// <summary>The figures of a training point's line, in the CSV's order.</summary>
    private static readonly string[] TrainingFigures = ["valid", "chips", "plan", "stepTimeSeconds", "tokensPerSecond", "modelFlopsUtilization", "memoryPerChipBytes", "fits", "joulesPerToken", "costPerMillionTokens", "timeToTrainSeconds"];

    /// <summary>The figures of a serving point's line, in the CSV's order.</summary>
    private static readonly string[] ServingFigures = ["valid", "chips", "outputTokensPerSecond", "goodputRequestsPerSecond", "attainment", "timeToFirstTokenP50Seconds", "timeToFirstTokenP99Seconds",
        "timePerOutputTokenP50Seconds", "timePerOutputTokenP99Seconds", "joulesPerOutputToken", "costPerMillionOutputTokens"];

    /// <summary>The figures of an RL post-training point's line, in the CSV's order.</summary>
    private static readonly string[] ReinforcementFigures = ["valid", "chips", "stepTimeSeconds", "generationSeconds", "trainerSeconds", "weightUpdateSeconds", "offloadSeconds", "generationShare",
        "trainedTokensPerSecondPerChip", "joulesPerTrainedToken", "costPerMillionTrainedTokens"];

    /// <summary>The figures of a shared cluster's point's line, in the CSV's order.</summary>
    private static readonly string[] SharedFigures = ["valid", "chips", "chipWeightedSlowdown", "mostSlowedJob", "mostSlowdown", "mostAlignedSlowdown", "tokensPerSecond", "converged"];

    /// <summary>
    /// The header line of <paramref name="shard"/> of <paramref name="sweep"/>, run with the catalogue whose
    /// fingerprint is <paramref name="catalog"/> (<see cref="CatalogFingerprint"/>).
    /// </summary>
    public static string Header(SweepDefinition sweep, SweepShard shard, string catalog)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return Json.Serialize(new
        {
            sweep = sweep.Name,
            kind = sweep.Kind,
            fingerprint = sweep.Fingerprint,
            catalog,
            points = sweep.Points,
            shard = shard.Index,
            shards = shard.Count,
            search = sweep.Search,
            objective = sweep.Search ? sweep.Objective.ToString().ToLowerInvariant() : null,
            fields = sweep.Axes.Select(axis => axis.Path),
        }, indented: false);
    }

    /// <summary>
    /// A hash of every file of the catalogue in <paramref name="folder"/> (its path within the catalogue and its bytes,
    /// in path order): shards run with different hardware figures, prices or calibrations do not merge.
    /// </summary>
    public static string CatalogFingerprint(string folder)
    {
        using var hash = System.Security.Cryptography.IncrementalHash.CreateHash(System.Security.Cryptography.HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(folder, "*", SearchOption.AllDirectories).Select(file => (Name: Path.GetRelativePath(folder, file).Replace('\\', '/'), Path: file)).OrderBy(file => file.Name, StringComparer.Ordinal))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(file.Name + "\n\0"));
            hash.AppendData(File.ReadAllBytes(file.Path));
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
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

        if (row.Reinforcement is { } step)
        {
            return Json.Serialize(new
            {
                point = row.Point,
                values,
                valid = row.Valid,
                chips = row.Chips,
                stepTimeSeconds = step.StepTime.Seconds,
                generationSeconds = step.GenerationTime.Seconds,
                trainerSeconds = step.TrainerTime.Seconds,
                weightUpdateSeconds = step.WeightUpdateTime.Seconds,
                offloadSeconds = step.OffloadTime.Seconds,
                generationShare = step.GenerationShare,
                trainedTokensPerSecondPerChip = step.TrainedTokensPerSecondPerChip,
                joulesPerTrainedToken = step.EnergyPerTrainedToken?.Joules,
                costPerMillionTrainedTokens = step.CostPerMillionTrainedTokens?.Dollars,
            }, indented: false);
        }

        if (row.Shared is { } shared)
        {
            return Json.Serialize(new
            {
                point = row.Point,
                values,
                valid = row.Valid,
                chips = row.Chips,
                chipWeightedSlowdown = shared.ChipWeightedSlowdown,
                mostSlowedJob = shared.MostSlowedJob,
                mostSlowdown = shared.MostSlowdown,
                mostAlignedSlowdown = shared.MostAlignedSlowdown,
                tokensPerSecond = shared.TokensPerSecond,
                converged = shared.Converged,
            }, indented: false);
        }

        if (row.Serving is { } served)
        {
            return Json.Serialize(new
            {
                point = row.Point,
                values,
                valid = row.Valid,
                chips = row.Chips,
                outputTokensPerSecond = served.OutputTokensPerSecond,
                goodputRequestsPerSecond = served.Goodput,
                attainment = served.Attainment,
                timeToFirstTokenP50Seconds = served.TimeToFirstToken.P50.Seconds,
                timeToFirstTokenP99Seconds = served.TimeToFirstToken.P99.Seconds,
                timePerOutputTokenP50Seconds = served.TimePerOutputToken.P50.Seconds,
                timePerOutputTokenP99Seconds = served.TimePerOutputToken.P99.Seconds,
                joulesPerOutputToken = served.EnergyPerOutputToken?.Joules,
                costPerMillionOutputTokens = served.CostPerMillionOutputTokens?.Dollars,
            }, indented: false);
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
    /// Merges the shard files <paramref name="parts"/> of one sweep: every shard once, every point once, each in its
    /// shard. The header and lines returned are those one run of the whole sweep writes. Throws
    /// <see cref="InputException"/> naming the file, the line and what does not fit.
    /// </summary>
    public static (string Header, List<string> Rows) Merge(IReadOnlyList<string> parts)
    {
        ArgumentNullException.ThrowIfNull(parts);
        if (parts.Count == 0)
        {
            throw new InputException("sweep-merge", "no shard files given (expected the files sweep --shard I/N --out wrote, such as sweep-parts/NAME/*.jsonl)");
        }

        JsonObject? first = null;
        var (shards, points) = (0L, 0L);
        var shardsSeen = new Dictionary<long, string>();
        var rows = new List<(long Point, string Line, string File)>();
        foreach (var part in parts)
        {
            if (!File.Exists(part))
            {
                throw new InputException(part, Directory.Exists(part) ? "is a folder (expected a shard's file, such as sweep-parts/NAME/0.jsonl)" : "shard file not found");
            }

            var lines = ReadLines(part);
            var header = lines.Count == 0 ? null : ParseLine(lines[0], part, 1);
            if (header is null || header["fingerprint"] is null || header["catalog"] is null)
            {
                throw new InputException([new Diagnostic(part, 1, string.Empty, "is not a sweep's header (expected the file sweep --shard I/N --out writes)")]);
            }

            if (first is null)
            {
                first = header;
                shards = Whole(header, "shards", part, 1, 1, 1_000_000);
                points = Whole(header, "points", part, 1, 1, SweepDefinition.MostPoints);
            }

            foreach (var key in SameInEveryShard)
            {
                if (!JsonNode.DeepEquals(first[key], header[key]))
                {
                    throw new InputException([new Diagnostic(part, 1, key, $"is {header[key]?.ToJsonString() ?? "missing"}, not {first[key]?.ToJsonString()} as in {parts[0]}: the file is of another sweep, split or catalogue (merge the shards of one run of one sweep file, every shard run from the same commit)")]);
                }
            }

            var shard = Whole(header, "shard", part, 1, 0, shards - 1);
            if (!shardsSeen.TryAdd(shard, part))
            {
                throw new InputException([new Diagnostic(part, 1, "shard", $"is {shard}, as in {shardsSeen[shard]}: give each shard once")]);
            }

            for (var index = 1; index < lines.Count; index++)
            {
                var row = ParseLine(lines[index], part, index + 1) ?? throw new InputException([new Diagnostic(part, index + 1, string.Empty, "is not a point's line")]);
                var point = Whole(row, "point", part, index + 1, 0, points - 1);
                if (point % shards != shard)
                {
                    throw new InputException([new Diagnostic(part, index + 1, "point", $"{point} is not shard {shard}'s of {shards} (its points leave {shard} when divided by {shards})")]);
                }

                rows.Add((point, lines[index], part));
            }
        }

        if (shardsSeen.Count < shards)
        {
            var missing = Enumerable.Range(0, (int)shards).Where(shard => !shardsSeen.ContainsKey(shard)).Take(10).ToArray();
            throw new InputException("sweep-merge", $"{shards - shardsSeen.Count:N0} of the {shards:N0} shards are missing, such as {string.Join(", ", missing)} (give every shard's file)");
        }

        rows.Sort((one, other) => one.Point.CompareTo(other.Point));
        for (var index = 0; index < rows.Count; index++)
        {
            if (index > 0 && rows[index].Point == rows[index - 1].Point)
            {
                throw new InputException("sweep-merge", $"point {rows[index].Point} appears twice (in {rows[index - 1].File} and {rows[index].File})");
            }
        }

        if (rows.Count != points)
        {
            var missing = Enumerable.Range(0, rows.Count + 1).First(index => index == rows.Count || rows[index].Point != index);
            throw new InputException("sweep-merge", $"{rows.Count:N0} of the {points:N0} points are there; point {missing} is missing (a shard stopped early: run it again)");
        }

        first!["shard"] = 0;
        first["shards"] = 1;
        return (Json.Serialize(first, indented: false), [.. rows.Select(row => row.Line)]);
    }

    /// <summary>A file's lines, blank ones left out (an editor's newline at the end), strictly UTF-8.</summary>
    private static List<string> ReadLines(string file)
    {
        try
        {
            return [.. File.ReadLines(file, new UTF8Encoding(false, throwOnInvalidBytes: true)).Where(line => line.Length > 0)];
        }
        catch (DecoderFallbackException)
        {
            throw new InputException(file, "is not valid UTF-8 (expected the file sweep --shard I/N --out writes)");
        }
    }

    /// <summary><paramref name="key"/> of <paramref name="line"/>: a whole number from <paramref name="least"/> to <paramref name="most"/>.</summary>
    private static long Whole(JsonObject line, string key, string file, int number, long least, long most) =>
        line[key] is JsonValue value && value.TryGetValue<long>(out var whole) && whole >= least && whole <= most
            ? whole
            : throw new InputException([new Diagnostic(file, number, key, $"is {line[key]?.ToJsonString() ?? "missing"} (expected a whole number from {least:N0} to {most:N0})")]);

    private static JsonObject? ParseLine(string line, string file, int number)
    {
        try
        {
            return JsonNode.Parse(line) as JsonObject ?? throw new InputException([new Diagnostic(file, number, string.Empty, "is not a JSON object")]);
        }
        catch (JsonException)
        {
            throw new InputException([new Diagnostic(file, number, string.Empty, "is not JSON: the line is cut short or damaged (run its shard again)")]);
        }
    }

    /// <summary>The rows as CSV: the point, each field's value, then the figures, one row per point.</summary>
    public static string Csv(string header, IEnumerable<string> rows)
    {
        ArgumentNullException.ThrowIfNull(rows);
        var top = JsonNode.Parse(header)!;
        var fields = top["fields"]!.AsArray().Select(field => field!.GetValue<string>()).ToArray();
        var figures = top["kind"]?.GetValue<string>() switch
        {
            "serving" => ServingFigures,
            "rl" => ReinforcementFigures,
            "share" => SharedFigures,
            _ => TrainingFigures,
        };
        var text = new StringBuilder();
        text.AppendLine(string.Join(',', fields.Prepend("point").Concat(figures).Append("problems").Select(Quoted)));
        foreach (var line in rows)
        {
            var row = JsonNode.Parse(line)!.AsObject();
            var cells = new List<string> { row["point"]!.ToJsonString() };
            cells.AddRange(fields.Select(field => row["values"]?[field]?.GetValue<string>() ?? string.Empty));
            cells.AddRange(figures.Select(figure => row[figure] is { } value ? (value.GetValueKind() == JsonValueKind.String ? value.GetValue<string>() : value.ToJsonString()) : string.Empty));
            cells.Add(row["problems"] is JsonArray problems ? string.Join("; ", problems.Select(problem => problem!.GetValue<string>())) : string.Empty);
            text.AppendLine(string.Join(',', cells.Select(Quoted)));
        }

        return text.ToString();
    }

    /// <summary>A decimal number as a spreadsheet reads one: a sign, digits with an optional point, an optional exponent.</summary>
    [System.Text.RegularExpressions.GeneratedRegex(@"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")]
    private static partial System.Text.RegularExpressions.Regex PlainNumber();

    /// <summary>
    /// A cell as CSV writes it: quoted where it holds a comma, a quote or a line break; and a text that a spreadsheet
    /// would take for a formula (one starting with =, +, -, @, a tab or a carriage return, and not a plain decimal number) behind a
    /// single quote, as OWASP's advice on CSV injection has it, since a sweep's values and problems echo its files.
    /// </summary>
    private static string Quoted(string cell)
    {
        if (cell.Length > 0 && cell[0] is '=' or '+' or '-' or '@' or '\t' or '\r' && !PlainNumber().IsMatch(cell))
        {
            cell = "'" + cell;
        }

        return cell.AsSpan().IndexOfAny(",\"\n\r") >= 0 ? "\"" + cell.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"" : cell;
    }
}
