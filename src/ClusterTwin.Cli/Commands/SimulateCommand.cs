using System.ComponentModel;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Scenarios;
using ClusterTwin.Validation;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin simulate SCENARIO [--kernels] [--timeline FILE] [--require-fit] [--json]</c>.</summary>
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

        /// <summary>Write the replayed step as a trace.</summary>
        [CommandOption("--timeline <FILE>")]
        [Description("Also write the step replayed pass by pass as a trace (Trace Event Format JSON: open it in ui.perfetto.dev or chrome://tracing), one row per pipeline rank.")]
        public string? Timeline { get; init; }

        /// <inheritdoc />
        protected override void CheckOutputs()
        {
            if (Timeline is not null)
            {
                CheckOutputFile(Timeline, "--timeline", "the timeline", "step.trace.json");
            }
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var catalog = settings.LoadCatalog();
        // A validation case file is its scenario beside the measured figures: the report adds the comparison.
        var published = ValidationCaseLoader.IsCaseFile(settings.Scenario) ? ValidationCaseLoader.Load(settings.Scenario, catalog) : null;
        var scenario = published?.Scenario ?? ScenarioLoader.Load(settings.Scenario, catalog);
        if (scenario.MixedPipeline is not null)
        {
            return Mixed(scenario, catalog, settings);
        }

        var (result, replay) = Run(scenario);
        var outcome = published is not null && result.Valid ? ValidationRun.Outcome(published, result) : null;
        var layers = settings.Kernels && result.Valid ? LayerProfile.Of(scenario, result) : [];
        // A plan that does not divide has no step to replay: its report says why, and the command exits 1.
        if (settings.Timeline is { } path && replay is not null)
        {
            if (replay.Timeline is not { } timeline)
            {
                throw new InputException(path, $"cannot write the timeline: the step was not replayed ({replay.NotReplayed})");
            }

            WriteTimeline(path, scenario.Name, timeline);
        }

        var eventLevel = Shown(replay);
        settings.EmitJsonOrTables(console, () => SimulationJson.Document(scenario, result, layers.IsEmpty ? null : LayerProfileReport.Json(layers), outcome, eventLevel is null ? null : EventLevelReport.Json(result, eventLevel)), output =>
        {
            SimulationReport.Write(output, scenario, result, settings.Scenario);
            if (eventLevel is not null)
            {
                EventLevelReport.Write(output, result, eventLevel);
            }

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

    /// <summary>
    /// A scenario whose pipeline runs on two kinds of chip: its step (the mixed pipeline engine's), beside the same job
    /// on each kind alone.
    /// </summary>
    private int Mixed(Scenario scenario, HardwareCatalog catalog, Settings settings)
    {
        if (settings.Kernels)
        {
            throw new InputException("--kernels", "lists one kind of chip's kernels; simulate each kind's cluster on its own for them (remove mixed_pipeline)");
        }

        var result = MixedPipelineEngine.Simulate(scenario);
        if (settings.Timeline is { } path)
        {
            if (result.Timeline is not { } timeline)
            {
                throw new InputException(path, $"cannot write the timeline: the step cannot run ({string.Join("; ", result.Problems)})");
            }

            WriteTimeline(path, scenario.Name, timeline);
        }

        var splits = result.Valid ? Splits(scenario, catalog, result) : [];
        settings.EmitJsonOrTables(console, () => MixedPipelineReport.Json(result, splits), output => MixedPipelineReport.Write(output, result, splits));
        return result.Valid && (result.Pools.All(pool => pool.Fits) || !settings.RequireFit) ? 0 : 1;
    }

    /// <summary>Writes the replayed step to <paramref name="path"/> as a trace (<c>--timeline</c>).</summary>
    private static void WriteTimeline(string path, string scenario, StepTimeline timeline) =>
        CatalogSettings.WriteFile(path, "the timeline", () =>
        {
            using var file = File.Create(path);
            TimelineTrace.Write(file, scenario, timeline);
        });

    /// <summary>
    /// Where <paramref name="scenario"/>'s mixed pipeline could split instead, as many chips in all: the other kind
    /// alone, every split with the layers balanced, and the first kind alone; its own split is its step
    /// (<paramref name="own"/>), its layers and systems as it gives them.
    /// </summary>
    internal static MixedPipelineReport.Split[] Splits(Scenario scenario, HardwareCatalog catalog, MixedPipelineResult own)
    {
        var mixed = scenario.MixedPipeline!;
        var pipeline = scenario.Plan.PipelineParallelism;
        var (first, rest) = (mixed.Cluster.Chip.Name, scenario.Cluster.Chip.Name);
        return [.. Enumerable.Range(0, pipeline + 1).Select(stages =>
        {
            var label = $"{stages} + {pipeline - stages}";
            if (stages == 0 || stages == pipeline)
            {
                var alone = ScenarioLoader.MixedPipelineAlone(scenario, catalog, firstKind: stages == pipeline, out var problem);
                return new MixedPipelineReport.Split(stages, $"{label} ({(stages == 0 ? rest : first)} alone)", null, alone is null ? null : AnalyticalEngine.Simulate(alone), problem);
            }

            if (stages == mixed.Stages)
            {
                return new MixedPipelineReport.Split(stages, label, own, null, null);
            }

            var split = ScenarioLoader.MixedPipelineSplit(scenario, catalog, stages, out var splitProblem);
            return new MixedPipelineReport.Split(stages, label, split is null ? null : MixedPipelineEngine.Simulate(split), null, splitProblem);
        })];
    }

    /// <summary>
    /// <paramref name="scenario"/>'s step as <c>simulate</c> reports it: the analytical engine's result with its simulated
    /// runs, and the event-level engine's replay (null for a plan that does not divide).
    /// </summary>
    internal static (TrainingStepResult Result, EventLevelStep? Replay) Run(Scenario scenario)
    {
        var result = AnalyticalEngine.Simulate(scenario).WithSimulatedRuns(scenario.Resilience);
        return (result, result.Valid ? EventLevelStep.Of(scenario) : null);
    }

    /// <summary>The replay where the report shows it (a pipeline, stragglers, or a step too long to replay); otherwise null.</summary>
    internal static EventLevelStep? Shown(EventLevelStep? replay) => replay is not null && EventLevelReport.Shows(replay) ? replay : null;
}
