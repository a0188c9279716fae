using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines.Analytical;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin simulate SCENARIO [--json]</c>.</summary>
public sealed class SimulateCommand(IAnsiConsole console) : Command<SimulateCommand.Settings>
{
    /// <summary>Arguments of <c>simulate</c>.</summary>
    public sealed class Settings : JsonSettings
    {
        /// <summary>The scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Scenario file (YAML): cluster, model, training job and plan.")]
        public string Scenario { get; init; } = string.Empty;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenario = ScenarioLoader.Load(settings.Scenario, catalog);
        var result = AnalyticalEngine.Simulate(scenario);
        settings.EmitJsonOrTables(console, () => SimulationJson.Document(scenario, result), output => SimulationReport.Write(output, scenario, result, settings.Scenario));

        return result.Valid ? 0 : 1;
    }
}
