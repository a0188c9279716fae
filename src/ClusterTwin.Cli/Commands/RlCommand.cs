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

        /// <summary>The page's title.</summary>
        [CommandOption("--title <TITLE>")]
        [Description("Title of the markdown page (default: RL post-training steps side by side).")]
        public string Title { get; init; } = "RL post-training steps side by side";
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        var scenarios = settings.Scenarios.Select(path => ScenarioLoader.LoadReinforcement(path, catalog)).ToArray();
        var steps = scenarios.Select(ReinforcementSimulator.Run).ToArray();
        settings.Emit(console, () => ReinforcementReport.Markdown(settings.Scenarios, steps, settings.Title), () => ReinforcementReport.Document(steps), output => ReinforcementReport.Write(output, steps));
        return steps.All(step => step.Valid) ? 0 : 1;
    }
}
