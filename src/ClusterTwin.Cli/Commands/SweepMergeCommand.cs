using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin sweep-merge PARTS... --out FILE [--csv FILE]</c>.</summary>
public sealed class SweepMergeCommand(IAnsiConsole console) : Command<SweepMergeCommand.Settings>
{
    /// <summary>Arguments of <c>sweep-merge</c>.</summary>
    public sealed class Settings : CommandSettings
    {
        /// <summary>The shards' files.</summary>
        [CommandArgument(0, "<PARTS>")]
        [Description("The files sweep --shard I/N --out wrote, every shard of one run once.")]
        public string[] Parts { get; init; } = [];

        /// <summary>The merged file.</summary>
        [CommandOption("--out <FILE>")]
        [Description("Write the merged points as JSON Lines: the same bytes one run of the whole sweep writes.")]
        public string? Out { get; init; }

        /// <summary>The merged points as CSV.</summary>
        [CommandOption("--csv <FILE>")]
        [Description("Also write the points as CSV: the point, each varied field, the figures and any problems.")]
        public string? Csv { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (Out is null && Csv is null)
            {
                return ValidationResult.Error("sweep-merge needs --out FILE (JSON Lines) or --csv FILE, or both");
            }

            foreach (var (path, option) in new[] { (Out, "--out"), (Csv, "--csv") })
            {
                if (path is not null)
                {
                    CatalogSettings.CheckOutputFile(path, option, "the merged points", option == "--out" ? "sweep.jsonl" : "sweep.csv");
                }
            }

            return ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var written = new[] { settings.Out, settings.Csv }.OfType<string>().Select(Path.GetFullPath).ToArray();
        if (written.Length == 2 && written[0] == written[1] || settings.Parts.Select(Path.GetFullPath).Intersect(written).FirstOrDefault() is not null)
        {
            throw new InputException(settings.Out ?? settings.Csv!, "is a shard's file or both outputs at once: write the merged points to a file of their own");
        }

        var (header, rows) = SweepLines.Merge(settings.Parts);
        if (settings.Out is { } path)
        {
            CatalogSettings.WriteFile(path, "the merged points", () => File.WriteAllText(path, header + "\n" + string.Concat(rows.Select(row => row + "\n"))));
        }

        if (settings.Csv is { } csv)
        {
            CatalogSettings.WriteFile(csv, "the CSV", () => File.WriteAllText(csv, SweepLines.Csv(header, rows)));
        }

        console.MarkupLine($"{rows.Count:N0} points from {settings.Parts.Length} shards merged{(settings.Out is null ? string.Empty : " into " + Markup.Escape(settings.Out))}{(settings.Csv is null ? string.Empty : " and " + Markup.Escape(settings.Csv))}");
        return 0;
    }
}
