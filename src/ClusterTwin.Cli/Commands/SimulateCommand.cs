using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin simulate SCENARIO [--kernels] [--require-fit] [--json]</c>.</summary>
public sealed class SimulateCommand(IAnsiConsole console) : Command<SimulateCommand.Settings>
{
    /// <summary>Arguments of <c>simulate</c>.</summary>
    public sealed class Settings : JsonSettings
    {
        /// <summary>The scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Scenario file (YAML): cluster, model, training job and plan; or a validation case file, whose measurement the report compares with the prediction.")]
        public string Scenario { get; init; } = string.Empty;

        /// <summary>Add each kind of layer's operators.</summary>
        [CommandOption("--kernels")]
        [Description("Also list each kind of layer's operators (kernels) on the busiest chip: runs, forward and backward time, share, what bounds each, rate (--json adds work and traffic).")]
        public bool Kernels { get; init; }

        /// <summary>Exit with code 1 where the layout does not fit in memory, as where it does not divide.</summary>
        [CommandOption("--require-fit")]
        [Description("Exit with code 1 where the layout does not fit in the chips' memory (or in the host's, for offloaded activations), as where it does not divide: for scripts and CI. The report is printed either way.")]
        public bool RequireFit { get; init; }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        // A validation case file is its scenario beside the measured figures: the report adds the comparison.
        var published = ValidationCaseLoader.IsCaseFile(settings.Scenario) ? ValidationCaseLoader.Load(settings.Scenario, catalog) : null;
        var scenario = published?.Scenario ?? ScenarioLoader.Load(settings.Scenario, catalog);
        var result = AnalyticalEngine.Simulate(scenario).WithSimulatedRuns(scenario.Resilience);
        var outcome = published is not null && result.Valid ? ValidationRun.Outcome(published, result) : null;
        var layers = settings.Kernels && result.Valid ? LayerProfile.Of(scenario, result) : [];
        settings.EmitJsonOrTables(console, () => SimulationJson.Document(scenario, result, layers.IsEmpty ? null : LayerProfileReport.Json(layers), outcome), output =>
        {
            SimulationReport.Write(output, scenario, result, settings.Scenario);
            if (outcome is not null)
            {
                ValidationReport.WriteOutcome(output, outcome);
            }

            if (!layers.IsEmpty)
            {
                LayerProfileReport.Write(output, layers, scenario.Cluster.Chip.PeakRate(scenario.Job.Precision)!.Value, scenario.Cluster.Chip.MemoryBandwidth.Value);
            }
        });

        return result.Valid && (result.Fits || !settings.RequireFit) ? 0 : 1;
    }
}
