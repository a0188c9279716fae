using System.Collections.Immutable;
using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Claims;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin claims [FILE] [--json] [--markdown FILE] [--plot DIR]</c>: vendor claims against specifications and workloads.</summary>
public sealed class ClaimsCommand(IAnsiConsole console) : Command<ClaimsCommand.Settings>
{
    /// <summary>Arguments of <c>claims</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The claims file.</summary>
        [CommandArgument(0, "[FILE]")]
        [Description("Claims file (default: claims/aws-trainium.yaml beside the catalogue).")]
        public string? File { get; init; }

        /// <summary>Where to write the charts.</summary>
        [CommandOption("--plot <DIR>")]
        [Description("Also write the charts (PNG and SVG) into this folder.")]
        public string? Plot { get; init; }

        /// <inheritdoc />
        protected override void CheckOutputs()
        {
            base.CheckOutputs();
            if (Plot is { } folder && System.IO.File.Exists(folder))
            {
                throw new InputException(folder, "cannot write the charts: --plot takes a folder, and this is a file (expected a folder, such as docs/claims)");
            }

            if (Plot is { } charts)
            {
                // Before the workloads' searches, not after them: the folder is made and a file tried in it, then a
                // folder made for the try is removed again, so that a run refused later leaves nothing behind.
                CatalogSettings.WriteFile(charts, "the charts", () =>
                {
                    var existed = Directory.Exists(charts);
                    var folder = Directory.CreateDirectory(charts);
                    var probe = Path.Combine(folder.FullName, $".clustertwin-write-check-{Environment.ProcessId}");
                    System.IO.File.WriteAllText(probe, string.Empty);
                    System.IO.File.Delete(probe);
                    if (!existed)
                    {
                        folder.Delete();
                    }
                });
            }
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var path = settings.File ?? Path.GetRelativePath(Directory.GetCurrentDirectory(), Path.Combine(Path.GetDirectoryName(Path.GetFullPath(catalog.Directory.TrimEnd('/', '\\'))) ?? ".", "claims", "aws-trainium.yaml"));
        var file = ClaimsFile.Load(path, catalog);
        var ratios = file.Claims.Select(claim => SpecificationRatio.Of(claim, catalog)).ToImmutableArray();
        var workloads = file.Workloads.Select(workload => WorkloadComparison.Run(ScenarioLoader.LoadForPlanning(workload, catalog), file.Systems, file.Chips, catalog)).ToImmutableArray();
        var findings = new ClaimsFindings(file, ratios, workloads);
        if (settings.Plot is { } directory)
        {
            var written = ImmutableArray<string>.Empty;
            CatalogSettings.WriteFile(directory, "the charts", () => written = ClaimsReport.Plot(findings, directory));
            if (!settings.Json)
            {
                console.MarkupLineInterpolated($"[grey]wrote {written.Length} charts (PNG and SVG) to {directory}[/]");
            }
        }

        settings.Emit(console, () => ClaimsReport.Markdown(findings), () => ClaimsReport.Document(findings), output => ClaimsReport.Write(output, findings));
        return 0;
    }
}
