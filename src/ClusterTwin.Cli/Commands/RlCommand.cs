using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Reinforcement;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin rl SCENARIO... [--json] [--markdown FILE]</c>: steps of reinforcement-learning post-training, phase by phase, and side by side.</summary>
public sealed class RlCommand(IAnsiConsole console) : Command<RlCommand.Settings>
{
    /// <summary>Arguments of <c>rl</c>.</summary>
    public sealed class Settings : ReportSettings
    {
        /// <summary>The RL scenario files.</summary>
        [CommandArgument(0, "<SCENARIO>")]
        [Description("RL post-training scenario files (YAML): model, trainer, rollout and rl blocks (docs/rl-post-training.md); several are set side by side.")]
        public string[] Scenarios { get; init; } = [];

        /// <summary>Try every split of separate pools' systems between training and generation.</summary>
        [CommandOption("--splits")]
        [Description("Try every split of the scenario's systems between the trainer and the rollout (placement: separate, one scenario): the trainer's data parallelism and the rollout's replicas follow the chips.")]
        public bool Splits { get; init; }

        /// <summary>The page's title.</summary>
        [CommandOption("--title <TITLE>")]
        [Description("Title of the markdown page (default: RL post-training steps side by side; with --splits, the scenario's name and every split of the pools).")]
        public string? Title { get; init; }

        /// <inheritdoc />
        public override ValidationResult Validate() =>
            base.Validate() is { Successful: false } missing ? missing
            : Splits && Scenarios.Length != 1 ? ValidationResult.Error($"--splits shares one scenario's systems between its pools: give one scenario file (got {Scenarios.Length})")
            : ValidationResult.Success();
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenarios = settings.Scenarios.Select(path => ScenarioLoader.LoadReinforcement(path, catalog, settings.Splits)).ToArray();
        if (settings.Splits)
        {
            return SearchSplits(settings, settings.Scenarios[0], scenarios[0]);
        }

        var steps = scenarios.Select(ReinforcementSimulator.Run).ToArray();
        settings.Emit(console, () => ReinforcementReport.Markdown(settings.Scenarios, steps, settings.Title ?? "RL post-training steps side by side"), () => ReinforcementReport.Document(steps), output => ReinforcementReport.Write(output, steps));
        return steps.All(step => step.Valid) ? 0 : 1;
    }

    private int SearchSplits(Settings settings, string path, ReinforcementScenario scenario)
    {
        var splits = PoolSplitSearch.Run(scenario);
        var title = settings.Title ?? $"{scenario.Name}: every split of the pools";
        settings.Emit(console, () => ReinforcementSplitsReport.Markdown(path, scenario, splits, title), () => ReinforcementSplitsReport.Document(scenario, splits), output => ReinforcementSplitsReport.Write(output, scenario, splits));
        return splits.Any(split => split.Runs) ? 0 : 1;
    }
}
