using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Serving;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin serve SCENARIO [--json]</c>: an event-level simulation of serving a model.</summary>
public sealed class ServeCommand(IAnsiConsole console) : Command<ServeCommand.Settings>
{
    /// <summary>Arguments of <c>serve</c>.</summary>
    public sealed class Settings : JsonSettings
    {
        /// <summary>The serving scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Serving scenario file (YAML): cluster, model, serving limits, requests, objectives (docs/serving.md).")]
        public string Scenario { get; init; } = string.Empty;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenario = ScenarioLoader.LoadServing(settings.Scenario, catalog);
        var result = scenario.Run();

        settings.EmitJsonOrTables(console, () => ServingReport.Document(scenario, result), output => ServingReport.Write(output, scenario, result));

        // Nothing served (every request refused or unfinished): a result, but not a deployment that works.
        return result.Completed > 0 ? 0 : 1;
    }
}
