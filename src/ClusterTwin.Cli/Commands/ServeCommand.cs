using System.Globalization;
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

        /// <summary>Search the highest arrival rate within the objectives instead of serving the scenario's own rate.</summary>
        [CommandOption("--capacity")]
        [Description("Find the highest arrival rate at which the deployment meets the scenario's objectives (Poisson or bursty arrivals; docs/serving.md#capacity).")]
        public bool Capacity { get; init; }

        /// <summary>The share of requests that must meet the objectives, for <c>--capacity</c>, as typed (read by <see cref="Validate"/>).</summary>
        [CommandOption("--attainment <SHARE>")]
        [Description("With --capacity: the share of requests that must meet both objectives, from 0.01 to 1 (default 0.9).")]
        public string? AttainmentText { get; init; }

        /// <summary>The share of requests that must meet the objectives.</summary>
        public double Attainment => AttainmentText is null ? 0.9 : double.Parse(AttainmentText, NumberStyles.Float, CultureInfo.InvariantCulture);

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (base.Validate() is { Successful: false } missing)
            {
                return missing;
            }

            if (AttainmentText is null)
            {
                return ValidationResult.Success();
            }

            if (!Capacity)
            {
                return ValidationResult.Error("--attainment sets the share of requests the capacity search holds to the objectives: give it with --capacity");
            }

            return !double.TryParse(AttainmentText, NumberStyles.Float, CultureInfo.InvariantCulture, out var share) || !(share is >= 0.01 and <= 1)
                ? ValidationResult.Error($"--attainment '{AttainmentText}' is not a share of the requests from 0.01 to 1 (such as 0.9)")
                : ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenario = ScenarioLoader.LoadServing(settings.Scenario, catalog);
        if (settings.Capacity)
        {
            return SearchCapacity(settings, scenario);
        }

        var result = scenario.Run();

        settings.EmitJsonOrTables(console, () => ServingReport.Document(scenario, result), output => ServingReport.Write(output, scenario, result));

        // Nothing served (every request refused or unfinished): a result, but not a deployment that works.
        return result.Completed > 0 ? 0 : 1;
    }

    private int SearchCapacity(Settings settings, ServingScenario scenario)
    {
        if (scenario.Workload.Arrivals is not (ArrivalKind.Poisson or ArrivalKind.Bursty))
        {
            throw new InputException(settings.Scenario, $"requests.arrival: --capacity varies the arrival rate, and {ScenarioLoader.ArrivalKey(scenario.Workload.Arrivals)} arrivals have none (expected poisson or bursty, with a rate to start from)");
        }

        if (!scenario.Objectives.AnyGiven)
        {
            throw new InputException(settings.Scenario, "objectives: --capacity finds the highest load within the objectives, and the scenario gives none (give objectives.ttft, objectives.tpot or both, such as {ttft: 500 ms, tpot: 50 ms})");
        }

        var capacity = scenario.Capacity(settings.Attainment);
        settings.EmitJsonOrTables(console, () => ServingCapacityReport.Document(scenario, capacity), output => ServingCapacityReport.Write(output, scenario, capacity));

        // No rate met the objectives: an answer, but a deployment that cannot serve them.
        return capacity.Capacity is null ? 1 : 0;
    }
}
