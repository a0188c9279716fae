using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin serve-search SCENARIO [--json] [--markdown FILE]</c>: the cheapest deployment that meets a serving scenario's objectives.</summary>
public sealed class ServeSearchCommand(IAnsiConsole console) : Command<ServeSearchCommand.Settings>
{
    /// <summary>Arguments of <c>serve-search</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The search scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Search scenario file (YAML): model, requests, objectives and a search block of systems, tensor degrees, precisions and batch limits (docs/serving.md#search).")]
        public string Scenario { get; init; } = string.Empty;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenario = ScenarioLoader.LoadServingSearch(settings.Scenario, catalog);
        var outcomes = scenario.Run(catalog);

        // The page names the scenario as the repository sees it, wherever the command ran from.
        var named = Path.GetRelativePath(CatalogSettings.RepositoryFolder(catalog), Path.GetFullPath(settings.Scenario));
        settings.Emit(console, () => ServingSearchReport.Markdown(scenario, outcomes, named), () => ServingSearchReport.Document(scenario, outcomes), output => ServingSearchReport.Write(output, scenario, outcomes));
        return ServingSearchReport.Found(outcomes) ? 0 : 1;
    }
}
