using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

public static partial class ScenarioLoader
{
    private static readonly string[] NotDrawnOverMixedPipelines = ["resilience"];

    private static readonly string[] NotPlacedOverMixedPipelines = ["first_stage_layers", "last_stage_layers"];

    /// <summary>
    /// Reads a scenario's <c>mixed_pipeline</c> block: the first pipeline stages on a second system's chips, the
    /// cluster running the rest. Every stage keeps the plan's tensor, context and data degrees, so the block's chips are
    /// its stages times those, and the cluster's the other stages times those. Refused, with
    /// <paramref name="refused"/>'s reason, where the caller cannot use it.
    /// </summary>
    private static MixedPipeline? ReadMixedPipeline(YamlReader reader, YamlMappingNode root, string path, HardwareCatalog catalog,
        (Cluster? Cluster, ModelArchitecture? Model, YamlMappingNode? PlanBlock, ParallelPlan? Plan, CostSettings Cost) rest, string? refused)
    {
        var field = YamlReader.Join(path, "mixed_pipeline");
        if (reader.Mapping(root, "mixed_pipeline", path, required: false) is not { } map)
        {
            return null;
        }

        if (refused is not null)
        {
            reader.Error(map, field, refused);
            return null;
        }

        reader.CheckKeys(map, field, "system", "stages", "layers_per_stage", "framework", "cost", "note");
        _ = reader.String(map, "note", field, required: false);
        foreach (var block in NotDrawnOverMixedPipelines.Where(key => YamlReader.Child(root, key) is not null))
        {
            reader.Error(YamlReader.Child(root, block)!, YamlReader.Join(path, block), "is not drawn over a mixed pipeline yet: remove it, or simulate each kind of chip's cluster on its own");
        }

        var system = ReadSystem(reader, map, field, catalog);
        var stages = reader.Integer(map, "stages", field, 1, 1_000_000);
        var layers = reader.Integer(map, "layers_per_stage", field, 1, 1_000_000, required: false);
        var (cluster, model, planBlock, plan, cost) = rest;
        if (planBlock is not null && YamlReader.Child(planBlock, "data") is null)
        {
            reader.Error(planBlock, YamlReader.Join(path, "plan.data"), "is needed with mixed_pipeline: the cluster holds only the last stages, so data parallelism cannot be worked out from its chips (give data: N)");
            return null;
        }

        if (system is null || stages is null || cluster is null || model is null || planBlock is null || plan is null)
        {
            return null;
        }

        var pipeline = plan.PipelineParallelism;
        var stageRanks = plan.StageRanks;
        if (stages >= pipeline)
        {
            reader.Error(YamlReader.Child(map, "stages")!, YamlReader.Join(field, "stages"), $"{stages} leaves the cluster none of the plan's {pipeline} pipeline stages (use 1 to {pipeline - 1}, or raise plan.pipeline)");
            return null;
        }

        if (plan.Order != RankOrder.TensorDataPipeline)
        {
            reader.Error(YamlReader.Child(planBlock, "order")!, YamlReader.Join(path, "plan.order"), "must be tensor-data-pipeline with mixed_pipeline: each kind of chip holds whole pipeline stages");
            return null;
        }

        if (plan.Schedule != PipelineScheduleKind.OneForwardOneBackward)
        {
            reader.Error(YamlReader.Child(planBlock, "schedule")!, YamlReader.Join(path, "plan.schedule"), $"{PipelineScheduleKeys.Key(plan.Schedule)} is not replayed over a mixed pipeline yet: use 1f1b (the default), or simulate each kind of chip's cluster on its own");
            return null;
        }

        var lastChips = (pipeline - stages.Value) * stageRanks;
        if (cluster.ChipCount != lastChips)
        {
            var clusterMap = YamlReader.Child(root, "cluster") as YamlMappingNode;
            reader.Error(YamlReader.Child(clusterMap, "chips") ?? YamlReader.Child(clusterMap, "count") ?? root, YamlReader.Join(path, "cluster.chips"), $"is {cluster.ChipCount:N0}, but with mixed_pipeline the cluster runs the last {pipeline - stages} of the plan's {pipeline} stages: tensor x context x data x {pipeline - stages} = {lastChips:N0} chips");
            return null;
        }

        foreach (var key in NotPlacedOverMixedPipelines.Where(key => YamlReader.Child(planBlock, key) is not null))
        {
            reader.Error(YamlReader.Child(planBlock, key)!, YamlReader.Join(path, "plan." + key), "does not apply with mixed_pipeline: the engine places the layers (or mixed_pipeline.layers_per_stage fixes the first kind's); remove it");
            return null;
        }

        if (layers is { } chunked && chunked % plan.VirtualStages != 0)
        {
            reader.Error(YamlReader.Child(map, "layers_per_stage")!, YamlReader.Join(field, "layers_per_stage"), $"{chunked} does not split into the plan's {plan.VirtualStages} virtual stages: use a multiple of {plan.VirtualStages}");
            return null;
        }

        if (layers is { } perStage && model.Layers - ((long)perStage * stages) < pipeline - stages)
        {
            reader.Error(YamlReader.Child(map, "layers_per_stage")!, YamlReader.Join(field, "layers_per_stage"), $"{perStage} x {stages} stages leaves fewer than one of {model.Name}'s {model.Layers} layers for each of the cluster's {pipeline - stages} stages (use at most {(model.Layers - (pipeline - stages)) / stages})");
            return null;
        }

        var firstCluster = MixedPipelineCluster(reader, map, field, system, stages.Value * stageRanks, cluster.Fabric);
        if (firstCluster is { SystemCount: > 1 } && YamlReader.Child(YamlReader.Child(root, "cluster") as YamlMappingNode, "fabric") is null)
        {
            reader.Error(YamlReader.Child(root, "cluster"), YamlReader.Join(path, "cluster.fabric"), $"is needed: the first stages' {firstCluster.ChipCount:N0} chips are {firstCluster.SystemCount} {system.Name}, joined by the cluster's fabric (name one, such as {catalog.Fabrics.Keys.First()})");
            return null;
        }

        var framework = firstCluster is null ? null : ReadFramework(reader, map, field, catalog, firstCluster);
        if (firstCluster is null || framework is null)
        {
            return null;
        }

        var costMap = YamlReader.Child(map, "cost") is not null ? map : root;
        if (costMap == root && YamlReader.Child(YamlReader.Child(root, "cost") as YamlMappingNode, "price") is not null)
        {
            reader.Error(map, YamlReader.Join(field, "cost"), $"is needed where the scenario's cost names a price: that price is the cluster's; give the {system.Name}'s own (cost: {{price: ...}}), or its basis alone for the catalogue's");
            return null;
        }

        // The scenario's own cost block, read again for the first kind's system, has had its problems reported once.
        var firstCost = ScenarioCost.Read(costMap == root ? reader.Shadow() : reader, costMap, costMap == root ? path : field, firstCluster, catalog.Prices) with { PowerUsageEffectiveness = cost.PowerUsageEffectiveness };
        return new MixedPipeline(firstCluster, catalog.EfficiencyFor(firstCluster.Chip), framework, stages.Value, layers, firstCost);
    }

    /// <summary>The first stages' chips: part of one <paramref name="system"/>, or whole ones on the cluster's fabric.</summary>
    private static Cluster? MixedPipelineCluster(YamlReader reader, YamlMappingNode map, string field, AcceleratorSystem system, long chips, Fabric fabric)
    {
        var cluster = ClusterOf(system, chips, fabric, out var problem);
        if (problem is not null)
        {
            reader.Error(map, YamlReader.Join(field, "stages"), $"the first stages' {chips:N0} chips (stages x tensor x context x data) {problem}");
        }

        return cluster;
    }

    /// <summary>
    /// <paramref name="chips"/> chips of <paramref name="system"/>: part of one, or whole ones on
    /// <paramref name="fabric"/>; null with the reason (<paramref name="problem"/>) where they are neither.
    /// </summary>
    private static Cluster? ClusterOf(AcceleratorSystem system, long chips, Fabric fabric, out string? problem)
    {
        var perSystem = system.Chips.Value;
        if (chips <= perSystem)
        {
            var part = Part(system, (int)chips, out var partProblem);
            problem = partProblem is null ? null : $"are not a system: {partProblem}";
            return part is null ? null : new Cluster(part, 1, fabric);
        }

        problem = chips % perSystem != 0 || chips / perSystem > int.MaxValue
            ? $"are not a whole number of {system.Name} ({perSystem} chips each)"
            : system.ScaleOutBandwidth is null ? $"need {chips / perSystem} {system.Name}, which has no published scale-out bandwidth to join them" : null;
        return problem is null ? new Cluster(system, (int)(chips / perSystem), fabric) : null;
    }

    /// <summary>
    /// <paramref name="scenario"/>'s job on one of its mixed pipeline's two kinds of chip alone (the first stages'
    /// where <paramref name="firstKind"/>), every stage on as many of its chips as both kinds hold, with that kind's
    /// framework, calibration and prices: what the mixed pipeline is weighed against. Null with the reason
    /// (<paramref name="problem"/>) where those chips are not a cluster.
    /// </summary>
    public static Scenario? MixedPipelineAlone(Scenario scenario, HardwareCatalog catalog, bool firstKind, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(catalog);
        var mixed = scenario.MixedPipeline ?? throw new ArgumentException("the scenario has no mixed pipeline", nameof(scenario));
        var chips = scenario.Cluster.ChipCount + mixed.Cluster.ChipCount;
        var used = firstKind ? mixed.Cluster.System : scenario.Cluster.System;
        var system = Whole(catalog, used);
        var cluster = ClusterOf(system, chips, scenario.Cluster.Fabric, out var reason);
        problem = reason is null ? null : $"{chips:N0} chips of {system.Name} {reason}";
        if (cluster is null)
        {
            return null;
        }

        var alone = scenario with { Cluster = cluster, MixedPipeline = null };
        return firstKind ? alone with { Efficiency = mixed.Efficiency, Framework = mixed.Framework, Cost = mixed.Cost } : alone;
    }

    /// <summary>
    /// <paramref name="scenario"/> with <paramref name="stages"/> of its pipeline's stages on the mixed pipeline's first
    /// kind of chip and the rest on its cluster's kind, as many chips in all, the layers balanced by the engine: where
    /// the pipeline could split instead (its stragglers not drawn: the splits are set side by side on their even step).
    /// Null with the reason (<paramref name="problem"/>) where either kind's chips are
    /// not a cluster of its systems.
    /// </summary>
    public static Scenario? MixedPipelineSplit(Scenario scenario, HardwareCatalog catalog, int stages, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(catalog);
        var mixed = scenario.MixedPipeline ?? throw new ArgumentException("the scenario has no mixed pipeline", nameof(scenario));
        var pipeline = scenario.Plan.PipelineParallelism;
        ArgumentOutOfRangeException.ThrowIfLessThan(stages, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(stages, pipeline);
        var stageRanks = scenario.Plan.StageRanks;
        var (first, rest) = (Whole(catalog, mixed.Cluster.System), Whole(catalog, scenario.Cluster.System));
        var firstCluster = ClusterOf(first, stages * stageRanks, scenario.Cluster.Fabric, out var firstProblem);
        var restCluster = ClusterOf(rest, (pipeline - stages) * stageRanks, scenario.Cluster.Fabric, out var restProblem);
        problem = firstProblem is not null ? $"{stages * stageRanks:N0} chips {firstProblem}"
            : restProblem is not null ? $"{(pipeline - stages) * stageRanks:N0} chips {restProblem}" : null;
        return firstCluster is null || restCluster is null ? null
            : scenario with { Cluster = restCluster, MixedPipeline = mixed with { Cluster = firstCluster, Stages = stages, LayersPerStage = null }, Stragglers = null };
    }

    /// <summary>The whole catalogue system of which <paramref name="system"/> may be a part (a run on part of a rack fills whole ones elsewhere).</summary>
    private static AcceleratorSystem Whole(HardwareCatalog catalog, AcceleratorSystem system) => catalog.Systems.GetValueOrDefault(system.WholeId, system);
}
