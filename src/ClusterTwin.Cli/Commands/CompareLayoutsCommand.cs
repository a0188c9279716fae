using ClusterTwin.Cli.Reports;
using ClusterTwin.Planning;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin compare-layouts [--cases DIR] [--markdown FILE] [--json]</c>: the planner against the published layouts.</summary>
public sealed class CompareLayoutsCommand(IAnsiConsole console) : Command<CompareLayoutsCommand.Settings>
{
    /// <summary>Arguments of <c>compare-layouts</c>.</summary>
    public sealed class Settings : CasesSettings;

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var comparisons = PublishedLayoutComparison.Of(CatalogSettings.LoadCases(settings.Cases, catalog).Training);
        settings.Emit(console, () => LayoutComparisonReport.Markdown(comparisons), () => LayoutComparisonReport.Document(comparisons), output => LayoutComparisonReport.Write(output, comparisons));
        return 0;
    }
}
