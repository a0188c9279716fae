using System.ComponentModel;
using System.Diagnostics;
using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Sweeps;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin sweep SWEEP [--shard I/N] [--out FILE] [--threads N] [--json]</c>.</summary>
public sealed class SweepCommand(IAnsiConsole console) : Command<SweepCommand.Settings>
{
    /// <summary>The most rows the table prints; <c>--out</c> writes every one.</summary>
    public const int MostRowsShown = 200;

    /// <summary>Arguments of <c>sweep</c>.</summary>
    public sealed class Settings : JsonSettings
    {
        /// <summary>The sweep file.</summary>
        [CommandArgument(0, "<SWEEP>")]
        [Description("Sweep file (YAML): a base scenario and the fields it varies, each combination a point (docs/sweeps.md).")]
        public string Sweep { get; init; } = string.Empty;

        /// <summary>The shard to run, as typed ("3/16").</summary>
        [CommandOption("--shard <I/N>")]
        [Description("Run shard I of N (from 0): the points whose number leaves I divided by N. Shards run anywhere (sweep-launch writes the jobs) and sweep-merge joins their files.")]
        public string? ShardText { get; init; }

        /// <summary>The file to write the points' lines to.</summary>
        [CommandOption("--out <FILE>")]
        [Description("Write every point as JSON Lines (a header, then a line per point) to FILE, instead of printing a table.")]
        public string? Out { get; init; }

        /// <summary>Threads, as typed.</summary>
        [CommandOption("--threads <N>")]
        [Description("Points run at once (default: the machine's cores). The output is the same for any number.")]
        public string? ThreadsText { get; init; }

        /// <summary>The shard.</summary>
        public SweepShard Shard => ShardText is null ? SweepShard.Whole : ParseShard(ShardText)!.Value;

        /// <summary>Threads.</summary>
        public int Threads => ThreadsText is null ? Environment.ProcessorCount : int.Parse(ThreadsText, NumberStyles.Integer, CultureInfo.InvariantCulture);

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (base.Validate() is { Successful: false } missing)
            {
                return missing;
            }

            if (ShardText is not null && ParseShard(ShardText) is null)
            {
                return ValidationResult.Error($"--shard '{ShardText}' is not a shard (expected I/N with 0 <= I < N <= 1000000, such as 3/16)");
            }

            return ThreadsText is not null && (!int.TryParse(ThreadsText, NumberStyles.Integer, CultureInfo.InvariantCulture, out var threads) || threads is < 1 or > 1024)
                ? ValidationResult.Error($"--threads '{ThreadsText}' is not a whole number from 1 to 1024 (such as 4)")
                : ValidationResult.Success();
        }

        /// <inheritdoc />
        protected override void CheckOutputs()
        {
            if (Out is not null)
            {
                CheckOutputFile(Out, "--out", "the sweep's points", "parts/sweep-0.jsonl");
            }
        }

        private static SweepShard? ParseShard(string text)
        {
            var parts = text.Split('/');
            return parts.Length == 2 && int.TryParse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture, out var index) &&
                   int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count is >= 1 and <= 1_000_000 && index < count
                ? new SweepShard(index, count)
                : null;
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var sweep = SweepLoader.Load(settings.Sweep);
        if (settings.Out is { } target && (Path.GetFullPath(target) == Path.GetFullPath(sweep.File) || Path.GetFullPath(target) == Path.GetFullPath(sweep.ScenarioFile)))
        {
            throw new InputException(target, "is the sweep's own file or its base scenario: write the points to another file, such as sweep.jsonl");
        }

        var shard = settings.Shard;
        var clock = Stopwatch.StartNew();
        var rows = SweepRunner.Run(sweep, catalog, shard, settings.Threads);
        var header = SweepLines.Header(sweep, shard, SweepLines.CatalogFingerprint(catalog.Directory));
        if (settings.Out is { } path)
        {
            var (count, valid) = (0L, 0L);
            void Write(string target)
            {
                using var file = new StreamWriter(target, append: false, new System.Text.UTF8Encoding(false)) { NewLine = "\n" };
                (count, valid) = WriteLines(file, header, rows);
            }

            if (!IsPlainFile(path))
            {
                // A link or a device (--out /dev/stdout) is written through, as it is.
                CatalogSettings.WriteFile(path, "the sweep's points", () => Write(path));
            }
            else
            {
                // The points go to PATH.partial as they are made, and take the file's name only once all are written, so
                // that a shard stopped part way (a job's time limit, a lost node) leaves no file a merge could mistake for
                // its output, not even an earlier run's.
                var partial = path + ".partial";
                CatalogSettings.WriteFile(path, "the sweep's points", () => File.Delete(path));
                try
                {
                    CatalogSettings.WriteFile(partial, "the sweep's points as they are made", () => Write(partial));
                }
                catch
                {
                    DeleteIfThere(partial);
                    throw;
                }

                CatalogSettings.WriteFile(path, "the sweep's points", () => File.Move(partial, path, overwrite: true));
            }

            console.MarkupLine($"{Markup.Escape(sweep.Name)}: {count:N0} points{(shard.Count > 1 ? $" (shard {shard})" : string.Empty)}, {valid:N0} with {(sweep.Serving ? "a run" : "a step")}, in {clock.Elapsed.TotalSeconds:0.0} s; written to {Markup.Escape(path)}");
            return 0;
        }

        if (settings.Json)
        {
            WriteLines(console.Profile.Out.Writer, header, rows);
            return 0;
        }

        SweepReport.Write(console, sweep, shard, rows, MostRowsShown, clock);
        return 0;
    }

    /// <summary>Deletes the file at <paramref name="path"/> where it can, leaving the error that led here to be reported.</summary>
    private static void DeleteIfThere(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            // What failed first is what the user needs to know; a .partial left behind is named as one.
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> is a file of its own, or none yet: not a link, nor a device or a process's
    /// stream (under /dev or /proc), which a rename would replace rather than write to.
    /// </summary>
    private static bool IsPlainFile(string path)
    {
        var full = Path.GetFullPath(path);
        return !full.StartsWith("/dev/", StringComparison.Ordinal) && !full.StartsWith("/proc/", StringComparison.Ordinal)
            && new FileInfo(full).LinkTarget is null && !Directory.Exists(full);
    }

    /// <summary>Writes the header and a line per point; the points written, and how many of them have a step (or a run).</summary>
    private static (long Count, long Valid) WriteLines(TextWriter writer, string header, IEnumerable<SweepRow> rows)
    {
        writer.WriteLine(header);
        var (count, valid) = (0L, 0L);
        foreach (var row in rows)
        {
            writer.WriteLine(SweepLines.Row(row));
            (count, valid) = (count + 1, valid + (row.Valid ? 1 : 0));
        }

        return (count, valid);
    }
}
