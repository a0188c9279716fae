using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin catalog list</c>.</summary>
public sealed class CatalogListCommand(IAnsiConsole console) : Command<CatalogSettings>
{
    /// <inheritdoc />
    public override int Execute(CommandContext context, CatalogSettings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        CatalogReport.WriteList(console, catalog);
        return 0;
    }
}
