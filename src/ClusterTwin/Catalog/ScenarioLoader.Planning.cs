using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>A scenario read for a plan search: its cluster, model and job, what its plan block pins, and that plan if it gave one.</summary>
/// <param name="Scenario">The scenario; its plan is the given one, or a placeholder of pure data parallelism.</param>
/// <param name="Pins">The values the plan block fixes (every searched field it names).</param>
/// <param name="Given">The plan as <c>simulate</c> would read it, where the file has a plan block.</param>
public sealed record PlanningScenario(Scenario Scenario, PlanPins Pins, ParallelPlan? Given);

public static partial class ScenarioLoader
{
    /// <summary>
    /// Loads <paramref name="path"/> for <c>clustertwin plan</c>: the plan block is optional, and each field it names
    /// pins that dimension of the search; or throws <see cref="InputException"/> with every problem.
    /// </summary>
    public static PlanningScenario LoadForPlanning(string path, HardwareCatalog catalog) =>
        ReadForPlanning(OpenScenario(path, ScenarioFileKind.Training), Path.GetFileNameWithoutExtension(path), catalog,
            "plan searches every layout on one kind of chip; simulate the mixed pipeline with `clustertwin simulate`, or remove the block to search the cluster alone");

    /// <summary>
    /// Reads the scenario <paramref name="reader"/> holds (a file, or a sweep's point) for a plan search, named
    /// <paramref name="name"/>; <paramref name="mixedPipelineRefused"/> says why a <c>mixed_pipeline</c> block cannot be used.
    /// </summary>
    internal static PlanningScenario ReadForPlanning(YamlReader reader, string name, HardwareCatalog catalog, string mixedPipelineRefused)
    {
        var parts = ReadParts(reader, reader.Root!, string.Empty, catalog, name, planRequired: false, mixedPipelineRefused);
        var pins = parts.PlanBlock is null ? PlanPins.None : ReadPins(reader, parts.PlanBlock, parts.Plan);
        ThrowIfUnread(reader, reader.File, parts.Complete);
        var placeholder = parts.Plan ?? new ParallelPlan(1, 1, (int)Math.Min(parts.Cluster!.ChipCount, int.MaxValue), 1);
        return new PlanningScenario(parts.With(placeholder), pins, parts.Plan);
    }

    /// <summary>The fields the plan block names, pinned to the values <paramref name="given"/> read them as.</summary>
    private static PlanPins ReadPins(YamlReader reader, YamlMappingNode map, ParallelPlan? given)
    {
        if (YamlReader.Child(map, "sharding") is { } sharding)
        {
            reader.Error(sharding, "plan.sharding", "hybrid sharding is not searched yet: remove it to plan, or simulate the plan as written");
        }

        if (given is null)
        {
            return PlanPins.None;
        }

        bool Names(string key) => YamlReader.Child(map, key) is not null;
        var explicitLayers = Names("first_stage_layers") || Names("last_stage_layers");
        if (explicitLayers && !Names("pipeline"))
        {
            reader.Error(map, "plan.pipeline", "first_stage_layers and last_stage_layers place one pipeline depth: pin it with plan.pipeline, or remove them to search the depth");
        }

        // Explicit stage layers are kept only with the depth they place pinned.
        var settings = PlanPins.SettingsOf(given);
        return settings with
        {
            Settings = explicitLayers ? given : settings.Settings,
            TensorParallelism = Names("tensor") ? given.TensorParallelism : null,
            ContextParallelism = Names("context") ? given.ContextParallelism : null,
            ContextCommunication = Names("context_communication") ? given.ContextCommunication : null,
            ExpertParallelism = Names("expert") ? given.ExpertParallelism : null,
            PipelineParallelism = Names("pipeline") ? given.PipelineParallelism : null,
            VirtualStages = Names("virtual_stages") ? given.VirtualStages : null,
            DataParallelism = Names("data") ? given.DataParallelism : null,
            MicroBatchSize = Names("micro_batch") ? given.MicroBatchSize : null,
            SequenceParallelism = Names("sequence_parallel") ? given.SequenceParallelism : null,
            Recompute = Names("recompute") ? given.Recompute : null,
            ZeroStage = Names("zero") ? given.ZeroStage : null,
            OffloadedLayers = Names("offload_activations") ? given.OffloadedLayers : null,
            NamesSchedule = Names("schedule"),
        };
    }
}
