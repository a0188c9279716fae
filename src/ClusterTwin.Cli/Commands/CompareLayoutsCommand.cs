using System.ComponentModel;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Planning;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin compare-layouts [--cases DIR] [--markdown FILE] [--json]</c>: the planner against the published layouts.</summary>
public sealed class CompareLayoutsCommand(IAnsiConsole console) : Command<CompareLayoutsCommand.Settings>
{
    /// <summary>Arguments of <c>compare-layouts</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>Folders of case files.</summary>
        [CommandOption("--cases <DIR>")]
        [Description("Folder of validation case files (default: validation/cases beside the catalogue). Repeatable.")]
        public string[] Cases { get; init; } = [];

        /// <summary>Write the markdown page.</summary>
        [CommandOption("--markdown <FILE>")]
        [Description("Also write the comparison as a markdown page (docs/layouts-vs-published.md is made this way).")]
        public string? Markdown { get; init; }

        /// <summary>Print JSON.</summary>
        [CommandOption("--json")]
        [Description("Print the comparison as JSON.")]
        public bool Json { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var comparisons = PublishedLayoutComparison.Of(CatalogSettings.LoadCases(settings.Cases, catalog));
        if (settings.Markdown is not null)
        {
            CatalogSettings.WriteReport(settings.Markdown, LayoutComparisonReport.Markdown(comparisons));
        }

        if (settings.Json)
        {
            console.Profile.Out.Writer.WriteLine(Json.Serialize(LayoutComparisonReport.Document(comparisons)));
        }
        else
        {
            LayoutComparisonReport.Write(console, comparisons);
        }

        return 0;
    }
}
