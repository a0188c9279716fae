using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Sharing;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin share SCENARIO... [--json] [--markdown FILE]</c>: training jobs side by side on one cluster's network; several clusters one after another.</summary>
public sealed class ShareCommand(IAnsiConsole console) : Command<ShareCommand.Settings>
{
    /// <summary>Arguments of <c>share</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The shared clusters' files.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Shared cluster files (YAML): the cluster, its placement and its jobs, each a training scenario's blocks on some of its systems (docs/shared-clusters.md); several are reported one after another.")]
        public string[] Scenarios { get; init; } = [];

        /// <summary>The page's title.</summary>
        [CommandOption("--title <TITLE>")]
        [Description("Title of the markdown page (default: training jobs sharing a cluster's network).")]
        public string? Title { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var results = settings.Scenarios.Select(path => ScenarioLoader.LoadShared(path, catalog)).ToArray().Select(SharedFabric.Run).ToArray();
        settings.Emit(console, () => SharedClusterReport.Markdown(settings.Scenarios, results, settings.Title ?? "Training jobs sharing a cluster's network"), () => SharedClusterReport.Document(results), output => SharedClusterReport.Write(output, results));
        return results.All(result => result.Valid) ? 0 : 1;
    }
}
