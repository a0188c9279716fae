using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Reliability;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a scenario file: a cluster (system, count, fabric), a model (a catalogue id or written inline), a training
/// job and a parallel plan. See <c>docs/scenario-format.md</c>.
/// </summary>
public static partial class ScenarioLoader
{

    private static readonly Dictionary<string, AttentionKernel> Kernels = new() { ["flash"] = AttentionKernel.Flash, ["standard"] = AttentionKernel.Standard };

    private static readonly Dictionary<string, RecomputePolicy> Policies = new()
    {
        ["none"] = RecomputePolicy.None,
        ["selective"] = RecomputePolicy.Selective,
        ["full"] = RecomputePolicy.Full,
    };

    private static readonly Dictionary<string, ExpertDispatch> Dispatches = new() { ["all-to-all"] = ExpertDispatch.AllToAll, ["deduplicated"] = ExpertDispatch.Deduplicated };
    private static readonly Dictionary<string, RankOrder> Orders = Enum.GetValues<RankOrder>().ToDictionary(order => order.Key(), StringComparer.Ordinal);

    /// <summary>
    /// Loads <paramref name="path"/> against <paramref name="catalog"/>, or throws <see cref="InputException"/> with every
    /// problem; <paramref name="mixedPipelineRefused"/> says why the caller cannot use a <c>mixed_pipeline</c> block, or is
    /// null where it can.
    /// </summary>
    public static Scenario Load(string path, HardwareCatalog catalog, string? mixedPipelineRefused = null)
    {
        var reader = OpenScenario(path, ScenarioFileKind.Training);
        var scenario = Read(reader, reader.Root!, string.Empty, catalog, Path.GetFileNameWithoutExtension(path), mixedPipelineRefused);
        ThrowIfUnread(reader, path, scenario is not null);
        return scenario!;
    }

    /// <summary>
    /// Reads the scenario <paramref name="reader"/> holds (a sweep's point), named <paramref name="name"/>, as
    /// <see cref="Load"/> reads a file; <paramref name="mixedPipelineRefused"/> says why a <c>mixed_pipeline</c> block
    /// cannot be used.
    /// </summary>
    internal static Scenario ReadPoint(YamlReader reader, string name, HardwareCatalog catalog, string mixedPipelineRefused)
    {
        var scenario = Read(reader, reader.Root!, string.Empty, catalog, name, mixedPipelineRefused);
        ThrowIfUnread(reader, reader.File, scenario is not null);
        return scenario!;
    }

    /// <summary>
    /// Opens a scenario file, or throws <see cref="InputException"/> if it is missing, a folder, not a YAML mapping, or
    /// plainly a file of another kind than <paramref name="expected"/> (one command's file given to another).
    /// </summary>
    private static YamlReader OpenScenario(string path, ScenarioFileKind expected)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            throw new InputException("scenario", "the file name is empty (expected a scenario file, such as examples/gpt3-175b-h100-1024.yaml)");
        }

        if (Directory.Exists(path))
        {
            throw new InputException(path, "is a folder (expected a scenario file, such as examples/gpt3-175b-h100-1024.yaml)");
        }

        if (!File.Exists(path))
        {
            throw new InputException(path, "scenario file not found");
        }

        var reader = YamlReader.Open(path, path);
        if (reader.Root is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "scenario could not be read")]);
        }

        if (ScenarioFileKinds.Mismatch(reader.Root, expected, path) is { } mismatch)
        {
            throw new InputException(path, mismatch);
        }

        return reader;
    }

    /// <summary>Reads the scenario fields of <paramref name="root"/>; a validation case embeds them under its own key.</summary>
    internal static Scenario? Read(YamlReader reader, YamlMappingNode root, string path, HardwareCatalog catalog, string fallbackName, string? mixedPipelineRefused = null)
    {
        var parts = ReadParts(reader, root, path, catalog, fallbackName, planRequired: true, mixedPipelineRefused);
        return parts.Plan is { } plan ? parts.With(plan) : null;
    }

    /// <summary>What a scenario file holds: its cluster, model and job, and its plan block (read as a plan) where it has one.</summary>
    private sealed record ScenarioParts(string Name, Cluster? Cluster, ModelArchitecture? Model, TrainingJob? Job, ChipEfficiency? Efficiency, YamlMappingNode? PlanBlock, ParallelPlan? Plan, CostSettings? Cost,
        TrainingFramework? Framework, bool FrameworkNamed, ResilienceSettings? Resilience, StragglerSettings? Stragglers, MixedPipeline? MixedPipeline)
    {
        public bool Complete => Cluster is not null && Model is not null && Job is not null && Cost is not null && Framework is not null && (PlanBlock is null || Plan is not null);

        public Scenario With(ParallelPlan plan) => new(Name, Cluster!, Efficiency!, Model!, Job!, plan, Cost) { Framework = Framework ?? TrainingFramework.None, FrameworkNamed = FrameworkNamed, Resilience = Resilience, Stragglers = Stragglers, MixedPipeline = MixedPipeline };
    }

    /// <summary>
    /// Reads a scenario's parts. <paramref name="mixedPipelineRefused"/> says why the caller cannot use a
    /// <c>mixed_pipeline</c> block (a search, a validation case), or is null where it can.
    /// </summary>
    private static ScenarioParts ReadParts(YamlReader reader, YamlMappingNode root, string path, HardwareCatalog catalog, string fallbackName, bool planRequired, string? mixedPipelineRefused)
    {
        reader.CheckKeys(root, path, "name", "description", "cluster", "model", "training", "plan", "cost", "facility", "resilience", "stragglers", "mixed_pipeline");
        var name = reader.String(root, "name", path, required: false) ?? fallbackName;
        _ = reader.String(root, "description", path, required: false);
        var cluster = ReadCluster(reader, reader.Mapping(root, "cluster", path, required: true), YamlReader.Join(path, "cluster"), catalog);
        var model = ReadModel(reader, root, YamlReader.Join(path, "model"), catalog);
        var training = reader.Mapping(root, "training", path, required: true);
        var job = ReadJob(reader, training, YamlReader.Join(path, "training"));
        if (model?.LearnedPositions is { } positions && job?.SequenceLength > positions)
        {
            // A learned position table has no entry past its length; rotary and ALiBi positions extrapolate (the engine warns).
            reader.Error(YamlReader.Child(training, "sequence_length"), YamlReader.Join(path, "training.sequence_length"),
                $"{job.SequenceLength} is longer than the {positions} learned positions of {model.Name} (its position table ends there; use at most {positions}, or a model with rotary or ALiBi positions)");
        }

        var framework = ReadFramework(reader, training, YamlReader.Join(path, "training"), catalog, cluster);
        var planBlock = reader.Mapping(root, "plan", path, required: planRequired);
        // With a mixed pipeline the cluster holds only the last stages: data parallelism is not its chips' to derive.
        var plan = planBlock is null ? null : ReadPlan(reader, planBlock, YamlReader.Join(path, "plan"), YamlReader.Child(root, "mixed_pipeline") is null ? cluster : null);
        var cost = ScenarioCost.Read(reader, root, path, cluster, catalog.Prices);
        var resilience = ScenarioResilience.Read(reader, root, path, cluster, job, catalog.Reliability);
        var stragglers = ScenarioStragglers.Read(reader, root, path);
        var mixed = ReadMixedPipeline(reader, root, path, catalog, (cluster, model, planBlock, plan, cost), mixedPipelineRefused);
        return new ScenarioParts(name, cluster, model, job, cluster is null ? null : catalog.EfficiencyFor(cluster.Chip), planBlock, plan, cost, framework, YamlReader.Child(training, "framework") is not null, resilience, stragglers, mixed);
    }

    /// <summary>The training framework the training block names, or the default of the cluster's chip vendor.</summary>
    private static TrainingFramework? ReadFramework(YamlReader reader, YamlMappingNode? map, string path, HardwareCatalog catalog, Cluster? cluster)
    {
        var id = reader.String(map, "framework", path, required: false);
        if (id is null)
        {
            return YamlReader.Child(map, "framework") is null && cluster is not null ? catalog.TrainingFrameworkFor(cluster.Chip) : null;
        }

        if (catalog.TrainingFrameworks.TryGetValue(id, out var framework))
        {
            return framework;
        }

        if (id == TrainingFramework.None.Id)
        {
            return TrainingFramework.None;
        }

        reader.Error(YamlReader.Child(map, "framework"), YamlReader.Join(path, "framework"),
            $"unknown training framework '{id}' (expected one of: {string.Join(", ", catalog.TrainingFrameworks.Keys)}, or {TrainingFramework.None.Id} for kernels at their roofline)");
        return null;
    }

    /// <summary>Throws <see cref="InputException"/> with the reader's diagnostics, or a generic one, when reading failed.</summary>
    private static void ThrowIfUnread(YamlReader reader, string path, [DoesNotReturnIf(false)] bool read)
    {
        if (reader.Diagnostics.Count > 0 || !read)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "scenario could not be read")]);
        }
    }

    private static Cluster? ReadCluster(YamlReader reader, YamlMappingNode? map, string path, HardwareCatalog catalog)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "system", "count", "chips", "chips_per_system", "fabric");
        var system = ReadSystem(reader, map, path, catalog);
        var used = reader.Integer(map, "chips_per_system", path, 1, 1_000_000, required: false);
        if (system is not null && used is { } part)
        {
            system = PartOf(reader, map, path, system, part);
        }

        int? count = null;
        if (YamlReader.Child(map, "chips") is not null)
        {
            if (YamlReader.Child(map, "count") is { } both)
            {
                reader.Error(both, YamlReader.Join(path, "count"), "give either count (systems) or chips, not both");
            }

            var chips = reader.Integer(map, "chips", path, 1, 1_000_000_000);
            if (chips is { } total && system is not null)
            {
                var perSystem = system.Chips.Value;
                if (total < perSystem && used is null)
                {
                    system = PartOf(reader, map, path, system, total);
                    count = system is null ? null : 1;
                }
                else if (total % perSystem != 0)
                {
                    reader.Error(YamlReader.Child(map, "chips"), YamlReader.Join(path, "chips"), $"{total} chips is not a whole number of {system.Name} ({perSystem} chips each); use count: {Math.Max(1, (int)Math.Round(total / (double)perSystem))} systems instead");
                }
                else
                {
                    count = total / perSystem;
                }
            }
        }
        else
        {
            count = reader.Integer(map, "count", path, 1, 100_000_000);
        }

        var fabricId = reader.String(map, "fabric", path, required: count is > 1);
        Fabric? fabric = null;
        if (fabricId is not null && !catalog.Fabrics.TryGetValue(fabricId, out fabric))
        {
            reader.Error(YamlReader.Child(map, "fabric"), YamlReader.Join(path, "fabric"), $"unknown fabric '{fabricId}' (expected one of: {string.Join(", ", catalog.Fabrics.Keys)})");
        }

        if (system is null || count is null)
        {
            return null;
        }

        if (count > 1 && system.ScaleOutBandwidth is null)
        {
            reader.Error(map, YamlReader.Join(path, "count"), $"{system.Name} has no published scale-out bandwidth, so {count} of them cannot be joined (expected count: 1, or add scale_out to catalog/systems/{system.Id}.yaml)");
            return null;
        }

        return new Cluster(system, count.Value, fabric ?? SingleSystemFabric);
    }

    /// <summary>The catalogue system <paramref name="map"/>'s <c>system</c> names, or null with a diagnostic naming the known ones.</summary>
    private static AcceleratorSystem? ReadSystem(YamlReader reader, YamlMappingNode map, string path, HardwareCatalog catalog)
    {
        var id = reader.String(map, "system", path);
        AcceleratorSystem? system = null;
        if (id is not null && !catalog.Systems.TryGetValue(id, out system))
        {
            reader.Error(YamlReader.Child(map, "system"), YamlReader.Join(path, "system"), $"unknown system '{id}' (expected one of: {string.Join(", ", catalog.Systems.Keys)})");
        }

        return system;
    }

    /// <summary>
    /// The first <paramref name="chips"/> chips of a switched or fully meshed system, as a run that uses part of a
    /// rack does (8 GPUs of a GB200 NVL72). A torus has no such part: its slices are systems of their own.
    /// </summary>
    private static AcceleratorSystem? PartOf(YamlReader reader, YamlMappingNode map, string path, AcceleratorSystem system, int chips)
    {
        var part = Part(system, chips, out var problem);
        if (problem is not null)
        {
            reader.Error(map, YamlReader.Join(path, YamlReader.Child(map, "chips_per_system") is null ? "chips" : "chips_per_system"), problem);
        }

        return part;
    }

    /// <summary>
    /// The first <paramref name="chips"/> chips of a switched or fully meshed system, or null with the reason
    /// (<paramref name="problem"/>) where the system has no such part.
    /// </summary>
    public static AcceleratorSystem? Part(AcceleratorSystem system, int chips, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(system);
        var topology = system.Topology;
        problem = null;
        if (chips > system.Chips.Value)
        {
            problem = $"{chips} chips is more than the {system.Chips.Value} of a {system.Name}";
            return null;
        }

        if (chips == system.Chips.Value)
        {
            return system;
        }

        if (topology.Kind == ScaleUpTopologyKind.Torus)
        {
            problem = $"part of a torus ({system.Name}) is not a system: use a catalogue system for the slice";
            return null;
        }

        var inner = topology.Shape[0];
        if (topology.Kind == ScaleUpTopologyKind.Switched && topology.Shape.Length > 1 && chips > inner && chips % inner != 0)
        {
            problem = $"{chips} chips is not a whole number of the {inner}-chip first switch level of a {system.Name}";
            return null;
        }

        System.Collections.Immutable.ImmutableArray<int> shape = topology.Kind == ScaleUpTopologyKind.Switched && topology.Shape.Length > 1 && chips > inner
            ? [inner, chips / inner]
            : [chips];
        return system with
        {
            Id = $"{system.Id}[{chips}]",
            Name = $"{chips} of the {system.Chips.Value} chips of one {system.Name}",
            Chips = system.Chips with { Value = chips, Note = $"{chips} of the system's {system.Chips.Value} chips used" },
            WholeSystemChips = system.DomainChips,
            WholeSystemId = system.WholeId,
            Topology = topology with { Shape = shape },
            Overheads = system.Overheads is { } overheads ? ScenarioCost.PartOf(overheads, chips / (double)system.Chips.Value) : null,
        };
    }

    /// <summary>
    /// Independent serving replicas on <paramref name="chips"/> chips of <paramref name="system"/>: part of one system,
    /// or whole systems that never talk to each other (no fabric); null where the system has no such part.
    /// </summary>
    public static Cluster? ServingCluster(AcceleratorSystem system, long chips)
    {
        ArgumentNullException.ThrowIfNull(system);
        var perSystem = system.Chips.Value;
        if (chips <= perSystem)
        {
            return Part(system, (int)chips, out _) is { } part ? new Cluster(part, 1, SingleSystemFabric) : null;
        }

        return chips % perSystem == 0 ? new Cluster(system, (int)(chips / perSystem), SingleSystemFabric) : null;
    }

    /// <summary>The id of the fabric a scenario that names none runs on (<see cref="SingleSystemFabric"/>).</summary>
    public const string NoFabric = "none";

    /// <summary>
    /// Stands in where the scenario names no fabric: independent replicas never use one, and a pipelined replica's
    /// stages in different systems hand off over the systems' network adapters at the scale-up latency (microseconds
    /// against milliseconds of iteration).
    /// </summary>
    private static readonly Fabric SingleSystemFabric = new()
    {
        Id = NoFabric,
        Name = "none (a single system)",
        Technology = "none",
        Tiers = [new FabricTier("none", Figure.Assumed<int>(2, "a single system uses no fabric"), 1, Figure.Assumed<Duration>(Duration.Zero, "unused"))],
        Efficiency = Figure.Assumed<double>(1, "unused"),
    };

    private static ModelArchitecture? ReadModel(YamlReader reader, YamlMappingNode root, string path, HardwareCatalog catalog, string key = "model")
    {
        var node = YamlReader.Child(root, key);
        switch (node)
        {
            case null:
                reader.Error(root, path, $"missing (expected a model id such as {string.Join(", ", catalog.Models.Keys.Take(3))}, or an inline model)");
                return null;
            case YamlMappingNode inline:
                return ModelReader.Read(reader, inline, path);
            case YamlSequenceNode:
                reader.Error(node, path, "expected one model: a catalogue id or an inline model (a mapping of fields), not a list");
                return null;
            default:
                var id = YamlReader.Scalar(node) ?? string.Empty;
                if (catalog.Models.TryGetValue(id, out var model))
                {
                    return model;
                }

                reader.Error(node, path, $"unknown model '{id}' (expected one of: {string.Join(", ", catalog.Models.Keys)})");
                return null;
        }
    }

    private static TrainingJob? ReadJob(YamlReader reader, YamlMappingNode? map, string path)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "sequence_length", "global_batch", "tokens", "precision", "attention", "dropout", "multi_token_prediction",
            "expert_capacity_factor", "forced_load_balance", "fused_token_permutation", "gradient_reduction", "cuda_graphs", "framework");
        var sequence = reader.Integer(map, "sequence_length", path, 1, 100_000_000);
        var batch = reader.Integer(map, "global_batch", path, 1, int.MaxValue);
        var tokens = reader.Number(map, "tokens", path, 1, 1e18, required: false);
        var format = reader.Choice(map, "precision", path, NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        var attention = reader.Enumeration(map, "attention", path, Kernels, required: false) ?? AttentionKernel.Flash;
        var dropout = reader.Boolean(map, "dropout", path) ?? false;
        var prediction = reader.Boolean(map, "multi_token_prediction", path) ?? true;
        var capacity = reader.Number(map, "expert_capacity_factor", path, 1, 1_000, required: false);
        var forcedBalance = reader.Boolean(map, "forced_load_balance", path) ?? false;
        var fusedPermutation = reader.Boolean(map, "fused_token_permutation", path) ?? true;
        var reduction = reader.Enumeration(map, "gradient_reduction", path, GradientReductionKeys.All, required: false);
        var graphs = CudaGraphsOf(reader, map, path);
        return sequence is null || batch is null ? null : new TrainingJob(sequence.Value, batch.Value, tokens, format.Precision, attention, dropout)
        {
            Format = format,
            MultiTokenPrediction = prediction,
            ExpertCapacityFactor = capacity,
            ForcedLoadBalance = forcedBalance,
            FusedTokenPermutation = fusedPermutation,
            GradientReduction = reduction,
            CudaGraphs = graphs,
        };
    }

    private static ParallelPlan? ReadPlan(YamlReader reader, YamlMappingNode? map, string path, Cluster? cluster)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, path, "tensor", "pipeline", "data", "virtual_stages", "micro_batch", "sequence_parallel", "recompute", "zero", "overlap_gradient_reduction", "overlap_tensor_communication", "overlap_pipeline_communication", "order", "sharding", "context", "context_communication", "expert",
            "expert_dispatch", "overlap_expert_communication", "first_stage_layers", "last_stage_layers", "offload_activations", "schedule");
        var tensor = reader.Integer(map, "tensor", path, 1, 1_000_000, required: false) ?? 1;
        var pipeline = reader.Integer(map, "pipeline", path, 1, 1_000_000, required: false) ?? 1;
        var context = reader.Integer(map, "context", path, 1, 1_000_000, required: false) ?? 1;
        var expert = reader.Integer(map, "expert", path, 1, 1_000_000, required: false) ?? 1;
        var data = reader.Integer(map, "data", path, 1, 100_000_000, required: false);
        if (data is null && cluster is not null)
        {
            var modelParallel = (long)tensor * pipeline * context;
            if (cluster.ChipCount % modelParallel != 0)
            {
                // Where one of the three degrees is above 1, the others at 1, that one is what does not divide.
                var above = new[] { (Field: "tensor", Value: tensor), (Field: "context", Value: context), (Field: "pipeline", Value: pipeline) }.Where(degree => degree.Value > 1).ToArray();
                if (above.Length == 1 && cluster.ChipCount <= int.MaxValue)
                {
                    var (field, value) = above[0];
                    var divisors = string.Join(", ", Planning.PlanSpace.Divisors((int)cluster.ChipCount).Take(8));
                    reader.Error(YamlReader.Child(map, field), YamlReader.Join(path, field), string.Create(CultureInfo.InvariantCulture,
                        $"{field} {value} does not divide the cluster's {cluster.ChipCount:N0} chips (expected a divisor of {cluster.ChipCount:N0}, such as {divisors})"));
                }
                else
                {
                    var degrees = context > 1 ? $"tensor {tensor} x context {context} x pipeline {pipeline}" : $"tensor {tensor} x pipeline {pipeline}";
                    reader.Error(map, YamlReader.Join(path, "data"), $"{degrees} = {modelParallel} does not divide the cluster's {cluster.ChipCount} chips, so the data-parallel degree cannot be derived");
                }
            }
            else if (cluster.ChipCount / modelParallel > 100_000_000)
            {
                reader.Error(map, YamlReader.Join(path, "data"), $"the derived data-parallel degree {cluster.ChipCount / modelParallel} is out of range (expected at most 100000000)");
            }
            else
            {
                data = (int)(cluster.ChipCount / modelParallel);
            }
        }

        var microBatch = reader.Integer(map, "micro_batch", path, 1, 1_000_000, required: false) ?? 1;
        var virtualStages = reader.Integer(map, "virtual_stages", path, 1, 10_000, required: false) ?? 1;
        var sequenceParallel = reader.Boolean(map, "sequence_parallel", path) ?? tensor > 1;
        var (recompute, modules) = ReadRecompute(reader, map, path);
        var zero = reader.Integer(map, "zero", path, 0, 3, required: false) ?? 1;
        var overlap = reader.Boolean(map, "overlap_gradient_reduction", path) ?? true;
        var order = reader.Enumeration(map, "order", path, Orders, required: false) ?? RankOrder.TensorDataPipeline;
        var sharding = reader.Integer(map, "sharding", path, 1, 100_000_000, required: false) ?? 0;
        var overlapTensor = reader.Boolean(map, "overlap_tensor_communication", path) ?? false;
        var overlapPipeline = reader.Boolean(map, "overlap_pipeline_communication", path);
        var contextCommunication = reader.Enumeration(map, "context_communication", path, ContextCommunicationKeys.All, required: false) ?? ContextCommunication.Ring;
        var dispatch = reader.Enumeration(map, "expert_dispatch", path, Dispatches, required: false) ?? ExpertDispatch.AllToAll;
        var overlapExperts = reader.Boolean(map, "overlap_expert_communication", path) ?? false;
        var firstLayers = reader.Integer(map, "first_stage_layers", path, 1, 1_000_000, required: false);
        var lastLayers = reader.Integer(map, "last_stage_layers", path, 1, 1_000_000, required: false);
        var offloaded = reader.Integer(map, "offload_activations", path, 0, 1_000_000, required: false) ?? 0;
        var schedule = reader.Enumeration(map, "schedule", path, PipelineScheduleKeys.All, required: false) ?? PipelineScheduleKind.OneForwardOneBackward;
        return data is null ? null : new ParallelPlan(tensor, pipeline, data.Value, microBatch, virtualStages, sequenceParallel, recompute, zero, overlap, order, sharding, overlapTensor, context, expert)
        {
            ContextCommunication = contextCommunication,
            ExpertDispatch = dispatch,
            OverlapExpertCommunication = overlapExperts,
            FirstStageLayers = firstLayers,
            LastStageLayers = lastLayers,
            RecomputeModules = modules,
            OffloadedLayers = offloaded,
            OverlapPipelineCommunication = overlapPipeline,
            Schedule = schedule,
        };
    }

    /// <summary>
    /// <c>recompute</c>: a policy (none, selective: the attention core, full), or a list of the modules selective
    /// recompute replays, named as Megatron-Core's <c>--recompute-modules</c>.
    /// </summary>
    private static (RecomputePolicy Policy, RecomputeModules Modules) ReadRecompute(YamlReader reader, YamlMappingNode map, string path)
    {
        var field = YamlReader.Join(path, "recompute");
        var expected = $"none, selective, full, or a list of recompute modules such as [layernorm, moe] (modules: {string.Join(", ", RecomputeModuleNames.All.Keys)})";
        var node = YamlReader.Child(map, "recompute");
        if (node is not YamlSequenceNode list)
        {
            if (YamlReader.Scalar(node) is { } text && RecomputeModuleNames.All.ContainsKey(text))
            {
                reader.Error(node, field, $"'{text}' is a recompute module: write it as a list, [{text}] (expected {expected})");
                return (RecomputePolicy.None, RecomputeModules.None);
            }

            return (reader.Enumeration(map, "recompute", path, Policies, required: false) ?? RecomputePolicy.None, RecomputeModules.CoreAttention);
        }

        if (list.Children.Count == 0)
        {
            reader.Error(list, field, $"lists no module (expected {expected})");
        }

        var modules = RecomputeModules.None;
        foreach (var item in list)
        {
            if (YamlReader.Scalar(item) is { } name && RecomputeModuleNames.All.TryGetValue(name, out var module))
            {
                modules |= module;
            }
            else
            {
                var shown = item is YamlScalarNode scalar ? $"'{scalar.Value}'" : "a nested list or mapping";
                reader.Error(item, field, $"{shown} is not a recompute module (expected one of: {string.Join(", ", RecomputeModuleNames.All.Keys)})");
            }
        }

        return (RecomputePolicy.Selective, modules);
    }

    /// <summary>
    /// The job's <c>cuda_graphs</c>; a yes-or-no switch, as Megatron-Bridge's performance yaml writes it, is an error
    /// that says which value it means.
    /// </summary>
    private static CudaGraphs CudaGraphsOf(YamlReader reader, YamlMappingNode map, string path)
    {
        if (YamlReader.Child(map, "cuda_graphs") is YamlScalarNode { Value: { } value } scalar && bool.TryParse(value, out var enabled))
        {
            reader.Error(scalar, YamlReader.Join(path, "cuda_graphs"),
                $"'{value}' is not one of: none, layers ({(enabled ? "layers is whole layers, Megatron-Core's enable_cuda_graph, which Megatron-Bridge's cuda_graphs: true sets without a cuda_graph_scope; graphs of some scopes only (attn, moe_router, moe_preprocess) are none" : "none is cuda_graphs: false")})");
            return CudaGraphs.None;
        }

        return reader.Enumeration(map, "cuda_graphs", path, CudaGraphsKeys.All, required: false) ?? CudaGraphs.None;
    }
}
