using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin compare SCENARIO... [--search] [--markdown FILE] [--json]</c>: scenarios side by side.</summary>
public sealed class CompareCommand(IAnsiConsole console) : Command<CompareCommand.Settings>
{
    /// <summary>Arguments of <c>compare</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The scenario files.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Scenario files to compare (two or more), each simulated with its own plan or, with --search, its best layout.")]
        public string[] Scenarios { get; init; } = [];

        /// <summary>Search each scenario's best layout instead of simulating its plan.</summary>
        [CommandOption("--search")]
        [Description("Compare each scenario's best layout (as clustertwin plan finds it, the plan block's fields pinned) instead of its plan.")]
        public bool Search { get; init; }

        /// <summary>The page's title.</summary>
        [CommandOption("--title <TITLE>")]
        [Description("Title of the markdown page (default: Scenarios side by side).")]
        public string Title { get; init; } = "Scenarios side by side";

        /// <inheritdoc />
        public override ValidationResult Validate() =>
            base.Validate() is { Successful: false } missing ? missing
            : Scenarios.Length >= 2 ? ValidationResult.Success() : ValidationResult.Error("compare needs two scenario files or more");
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var rows = settings.Scenarios.Select(path =>
        {
            if (settings.Search)
            {
                var planning = ScenarioLoader.LoadForPlanning(path, catalog);
                var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 1);
                if (search.Refusal is { } refusal)
                {
                    throw new InputException(path, refusal);
                }

                // Nothing to rank is a result, as plan says it: the row is invalid, with the search's reasons.
                return search.Plans.IsEmpty
                    ? new ComparisonRow(path, planning.Scenario, new TrainingStepResult { Scenario = planning.Scenario.Name, Valid = false, Problems = search.WhyNoLayout(), Chips = planning.Scenario.Cluster.ChipCount }) { HasLayout = false }
                    : Row(path, planning.Scenario with { Plan = search.Plans[0].Plan }, search.Plans[0].Result);
            }

            var scenario = ScenarioLoader.Load(path, catalog, "compare sets scenarios on one kind of chip side by side; `clustertwin simulate` weighs a mixed pipeline against each of its kinds alone");
            return Row(path, scenario, AnalyticalEngine.Simulate(scenario));
        }).ToArray();

        settings.Emit(console, () => ComparisonReport.Markdown(rows, settings.Search, settings.Title), () => ComparisonReport.Document(rows), output => ComparisonReport.Write(output, rows));
        return rows.All(row => row.Result.Valid) ? 0 : 1;
    }

    /// <summary>A scenario's row: its result with the simulated runs of its resilience block, and its straggler draws where it names stragglers.</summary>
    private static ComparisonRow Row(string path, Scenario scenario, TrainingStepResult result) =>
        new(path, scenario, result.WithSimulatedRuns(scenario.Resilience)) { Replay = scenario.Stragglers is not null && result.Valid ? EventLevelStep.Of(scenario) : null };
}
