using System.Collections.Immutable;
using System.ComponentModel;
using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Planning;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin train-search SCENARIO [--json] [--markdown FILE]</c>: the cluster each system needs to train a job within a deadline.</summary>
public sealed class TrainSearchCommand(IAnsiConsole console) : Command<TrainSearchCommand.Settings>
{
    /// <summary>Arguments of <c>train-search</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The search scenario file.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("Search scenario file (YAML): model, training job with its tokens, a deadline, and a search block of clusters (system and fabric) to size (docs/plan-search.md#sizing-a-cluster-for-a-deadline).")]
        public string Scenario { get; init; } = string.Empty;
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenario = ScenarioLoader.LoadTrainingSearch(settings.Scenario, catalog);
        var outcomes = settings.Json || !console.Profile.Capabilities.Interactive ? Run(scenario, null) : WithStatus(scenario);

        // The page names the scenario as the repository sees it, wherever the command ran from.
        var named = Path.GetRelativePath(CatalogSettings.RepositoryFolder(catalog), Path.GetFullPath(settings.Scenario));
        settings.Emit(console, () => SizeSearchReport.Markdown(scenario, outcomes, named), () => SizeSearchReport.Document(scenario, outcomes), output => SizeSearchReport.Write(output, scenario, outcomes));
        return SizeSearchReport.Found(outcomes) ? 0 : 1;
    }

    private static ImmutableArray<SizeOutcome> Run(TrainingSearchScenario scenario, Action<SizeCandidate, (int Systems, long Chips)>? report) =>
        SizeSearch.Rank(scenario.Candidates.Select(candidate => SizeSearch.Run(candidate, scenario.Settings, progress: report is null ? null : new Progress(size => report(candidate, size)))), scenario.Settings.Objective);

    private ImmutableArray<SizeOutcome> WithStatus(TrainingSearchScenario scenario)
    {
        var outcomes = ImmutableArray<SizeOutcome>.Empty;
        console.Status().Start("sizing", context => outcomes = Run(scenario, (candidate, size) =>
            context.Status(Markup.Escape(string.Create(CultureInfo.InvariantCulture, $"searching layouts: {candidate.Template.Cluster.System.Name}, {size.Chips:N0} chips")))));
        return outcomes;
    }

    /// <summary>Reports each size on the calling thread, as it starts (the size search reports from its own thread only).</summary>
    private sealed class Progress(Action<(int Systems, long Chips)> report) : IProgress<(int Systems, long Chips)>
    {
        public void Report((int Systems, long Chips) value) => report(value);
    }
}
