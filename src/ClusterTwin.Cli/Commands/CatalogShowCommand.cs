using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin catalog show ID</c>.</summary>
public sealed class CatalogShowCommand(IAnsiConsole console) : Command<CatalogShowCommand.Settings>
{
    /// <summary>Arguments of <c>catalog show</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The id to show.</summary>
        [CommandArgument(0, "<ID>")]
        [Description("A chip, system, fabric or model id (see catalog list).")]
        public string Id { get; init; } = string.Empty;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        if (!CatalogReport.WriteEntry(console, catalog, settings.Id))
        {
            var close = CatalogReport.AllIds(catalog).Where(id => id.Contains(settings.Id, StringComparison.OrdinalIgnoreCase)).Take(5).ToArray();
            throw new InputException("catalog", $"no entry with id '{settings.Id}'" + (close.Length > 0 ? $" (did you mean {string.Join(", ", close)}?)" : " (see clustertwin catalog list)"));
        }

        return 0;
    }
}
