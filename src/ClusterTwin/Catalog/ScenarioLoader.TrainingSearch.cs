using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Planning;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>A cluster size search (<c>clustertwin train-search</c>): the job, the deadline, and the kinds of cluster to size.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Settings">The deadline, objective and limits.</param>
/// <param name="Candidates">Each kind of cluster: the job on one system of it, with the plan fields pinned.</param>
public sealed record TrainingSearchScenario(string Name, SizeSearchSettings Settings, ImmutableArray<SizeCandidate> Candidates)
{
    /// <summary>What the search asks and how to read it, for its report; null when the file gives none.</summary>
    public string? Description { get; init; }
}

public static partial class ScenarioLoader
{
    private static readonly Dictionary<string, SizeObjective> SizeObjectives = new() { ["cost"] = SizeObjective.Cost, ["chips"] = SizeObjective.Chips };

    private static readonly Dictionary<string, DeadlineBasis> DeadlineBases = new() { ["prediction"] = DeadlineBasis.Prediction, ["p90"] = DeadlineBasis.SlowEnd };

    /// <summary>
    /// Loads a cluster size search for <c>clustertwin train-search</c> (docs/plan-search.md#sizing-a-cluster-for-a-deadline):
    /// a training scenario without its cluster (model, training with its tokens, an optional plan block of pins, cost
    /// and facility), a <c>deadline</c>, and a <c>search</c> block of clusters to size; or throws <see cref="InputException"/>.
    /// </summary>
    public static TrainingSearchScenario LoadTrainingSearch(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path, ScenarioFileKind.TrainingSearch);
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "name", "description", "model", "training", "plan", "cost", "facility", "resilience", "deadline", "search");
        var name = reader.String(root, "name", string.Empty, required: false) ?? Path.GetFileNameWithoutExtension(path);
        var description = reader.String(root, "description", string.Empty, required: false);
        if (YamlReader.Child(root, "deadline") is null)
        {
            reader.Error(root, "deadline", "missing (expected the wall time the run may take, such as 30 d)");
        }

        var deadline = reader.Quantity<Duration>(root, "deadline", string.Empty, required: false, range: PlausibleRange.Deadline);
        if (deadline is { Seconds: 0 })
        {
            reader.Error(YamlReader.Child(root, "deadline"), "deadline", "is zero (expected the wall time the run may take, such as 90 d)");
        }

        if (reader.Mapping(root, "training", string.Empty, required: false) is { } training && YamlReader.Child(training, "tokens") is null)
        {
            reader.Error(training, "training.tokens", "missing: a size search needs the tokens to train on, to time the whole run (such as tokens: 15T)");
        }

        if (reader.Mapping(root, "cost", string.Empty, required: false) is { } cost && YamlReader.Child(cost, "price") is { } price)
        {
            reader.Error(price, "cost.price", "names one system's price, but a size search prices each system at its own default (the reference provider's on-demand price): remove it, and simulate the chosen cluster to price it by name");
        }

        var pins = ReadSizePins(reader, reader.Mapping(root, "plan", string.Empty, required: false));

        var search = reader.Mapping(root, "search", string.Empty, required: true);
        reader.CheckKeys(search ?? new YamlMappingNode(), "search", "clusters", "objective", "deadline_at", "max_chips", "memory_headroom");
        // Read whether or not the deadline was, so that one run lists every problem.
        var searched = new SizeSearchSettings
        {
            Deadline = deadline ?? Duration.Zero,
            Objective = reader.Enumeration(search, "objective", "search", SizeObjectives, required: false) ?? SizeObjective.Cost,
            DeadlineAt = reader.Enumeration(search, "deadline_at", "search", DeadlineBases, required: false) ?? DeadlineBasis.Prediction,
            MaximumChips = reader.Integer(search, "max_chips", "search", 1, 100_000_000, required: false) ?? 1_000_000,
            MemoryHeadroom = reader.Number(search, "memory_headroom", "search", 0, 0.9, required: false) ?? 0,
        };
        var settings = deadline is null ? null : searched;
        if (search is null)
        {
            // The clusters read the shared blocks; without them, the blocks a search needs are still named.
            _ = reader.Mapping(root, "training", string.Empty, required: true);
            if (YamlReader.Child(root, "model") is null)
            {
                reader.Error(root, "model", "missing (expected a catalogue model id, such as llama3-70b, or a mapping of its shape)");
            }
        }

        var candidates = search is null ? [] : ReadSizeCandidates(reader, root, search, catalog, name, searched.MaximumChips, pins);
        if (reader.Diagnostics.Count > 0 || settings is null || candidates.IsDefaultOrEmpty)
        {
            // Each candidate reads the shared blocks again: their problems are told once.
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics.Distinct() : [new Diagnostic(path, 0, string.Empty, "scenario could not be read")]);
        }

        return new TrainingSearchScenario(name, settings, candidates) { Description = description };
    }

    /// <summary>
    /// The search's clusters, <c>[{system, chips_per_system, fabric, precision, framework}]</c>: each the scenario on one
    /// system of it, in the training block's format and framework or its own (Trainium3 in MXFP8 beside H100 in FP8).
    /// </summary>
    private static ImmutableArray<SizeCandidate> ReadSizeCandidates(YamlReader reader, YamlMappingNode root, YamlMappingNode search, HardwareCatalog catalog, string name, long maximumChips, PlanPins pins)
    {
        const string path = "search.clusters";
        const string expected = "expected a list of {system, fabric, chips_per_system, precision, framework}, such as [{system: nvidia-dgx-h100, fabric: infiniband-ndr-fat-tree}]";
        var node = YamlReader.Child(search, "clusters");
        if (node is not YamlSequenceNode { Children.Count: > 0 } list)
        {
            reader.Error(node ?? search, path, node is null ? $"missing ({expected})" : expected);
            return [];
        }

        var candidates = ImmutableArray.CreateBuilder<SizeCandidate>();
        foreach (var entry in list.Children)
        {
            if (entry is not YamlMappingNode item)
            {
                reader.Error(entry, path, expected);
                continue;
            }

            if (SizeCandidateOf(reader, root, item, catalog, name, maximumChips, pins) is not { } candidate)
            {
                continue;
            }

            // The same system, part, fabric, format and framework twice would be sized twice, to the same answer.
            var (cluster, format, framework) = (candidate.Template.Cluster, candidate.Template.Job.Format, candidate.Template.Framework);
            if (candidates.Any(other => other.Template.Cluster.System.Id == cluster.System.Id && other.Template.Cluster.Fabric.Id == cluster.Fabric.Id && other.Template.Job.Format == format && other.Template.Framework.Id == framework.Id))
            {
                reader.Error(item, path, $"{cluster.System.Id} on {cluster.Fabric.Id} in {format.Key} on {framework.Id} is listed twice (list each cluster once)");
                continue;
            }

            candidates.Add(candidate);
        }

        return candidates.ToImmutable();
    }

    /// <summary>One cluster of the search, checked where it is written, then read as the scenario on one system of it.</summary>
    private static SizeCandidate? SizeCandidateOf(YamlReader reader, YamlMappingNode root, YamlMappingNode item, HardwareCatalog catalog, string name, long maximumChips, PlanPins pins)
    {
        const string path = "search.clusters";
        var errors = reader.Diagnostics.Count;
        reader.CheckKeys(item, path, "system", "chips_per_system", "fabric", "precision", "framework");
        var system = ReadSystem(reader, item, path, catalog);

        var used = reader.Integer(item, "chips_per_system", path, 1, 1_000_000, required: false);
        if (system is not null && used is { } chips && Part(system, chips, out var problem) is null)
        {
            reader.Error(YamlReader.Child(item, "chips_per_system"), YamlReader.Join(path, "chips_per_system"), problem!);
        }

        var fabric = reader.String(item, "fabric", path, required: false);
        if (fabric is not null && !catalog.Fabrics.ContainsKey(fabric))
        {
            reader.Error(YamlReader.Child(item, "fabric"), YamlReader.Join(path, "fabric"), $"unknown fabric '{fabric}' (expected one of: {string.Join(", ", catalog.Fabrics.Keys)})");
        }
        else if (fabric is not null && system is not null && system.ScaleOutBandwidth is null)
        {
            reader.Error(YamlReader.Child(item, "fabric"), YamlReader.Join(path, "fabric"), $"{system.Name} has no published scale-out bandwidth, so it is sized as one system and joins no fabric: remove it");
        }
        else if (YamlReader.Child(item, "fabric") is null && system is not null && system.ScaleOutBandwidth is not null && (used ?? system.Chips.Value) < maximumChips)
        {
            reader.Error(item, YamlReader.Join(path, "fabric"), $"missing: the search joins {system.Name} systems on a scale-out fabric (expected one of: {string.Join(", ", catalog.Fabrics.Keys)})");
        }

        var format = reader.Choice(item, "precision", path, NumberFormat.All, required: false);
        var trained = format ?? TrainingFormat(root);
        if (trained is not null && system is not null && !system.Chip.Supports(trained))
        {
            reader.Error(YamlReader.Child(item, "precision") ?? item, YamlReader.Join(path, "precision"),
                format is null ? $"{system.Chip.Name} does not train in training.precision {trained.Key}: give this cluster a format it runs (search.clusters[].precision)" :
                $"{system.Chip.Name} does not train in {trained.Key} (it has {string.Join(", ", system.Chip.PeakRates.Keys.Select(precision => precision.Key()))} rates{(system.Chip.ScaledFormats.IsEmpty ? string.Empty : $", and scales {string.Join(", ", system.Chip.ScaledFormats)} in hardware")})");
        }

        // Without a cluster the reader gives no vendor default: null where the entry names none.
        var framework = ReadFramework(reader, item, path, catalog, cluster: null);

        if (reader.Diagnostics.Count > errors)
        {
            return null;
        }

        // The scenario on one system: the file's own blocks, read as a training scenario's, with this cluster (the plan
        // block is read once, as pins, for every size).
        var scenario = new YamlMappingNode();
        foreach (var (key, value) in root.Children.Where(child => YamlReader.Scalar(child.Key) is "name" or "description" or "model" or "training" or "cost" or "facility" or "resilience"))
        {
            scenario.Add(key, value);
        }

        var cluster = new YamlMappingNode(item.Children.Where(child => YamlReader.Scalar(child.Key) is not ("precision" or "framework")));
        cluster.Add("count", "1");
        scenario.Add("cluster", cluster);
        var parts = ReadParts(reader, scenario, string.Empty, catalog, name, planRequired: false, "train-search sizes clusters of one kind of chip; simulate the mixed pipeline with `clustertwin simulate`");
        if (!parts.Complete)
        {
            return null;
        }

        // The search ignores the scenario's plan (the pins carry what the file fixed): pure data parallelism stands in.
        var template = parts.With(new Parallelism.ParallelPlan(1, 1, parts.Cluster!.System.Chips.Value, 1));
        template = format is null ? template : template with { Job = template.Job with { Format = format } };
        template = framework is null ? template : template with { Framework = framework, FrameworkNamed = true };
        return new SizeCandidate(template, pins);
    }

    /// <summary>The training block's format: the one it names, BF16 where it names none, null where it names an unknown one (the training block's reader reports that).</summary>
    private static NumberFormat? TrainingFormat(YamlMappingNode root) =>
        YamlReader.Child(root, "training") is YamlMappingNode training && YamlReader.Scalar(YamlReader.Child(training, "precision")) is { } key
            ? NumberFormat.All.GetValueOrDefault(key.Trim())
            : NumberFormat.Bf16;

    /// <summary>
    /// The plan block's pins, the same for every size: read without a cluster, so that a degree is not held to one
    /// system's chips. It may not pin the data-parallel degree, which each size's chips set.
    /// </summary>
    private static PlanPins ReadSizePins(YamlReader reader, YamlMappingNode? map)
    {
        if (map is null)
        {
            return PlanPins.None;
        }

        if (YamlReader.Child(map, "data") is { } data)
        {
            reader.Error(data, "plan.data", "the search sizes the cluster, so the data-parallel degree follows each size: remove it (pin the other degrees instead)");
            return PlanPins.None;
        }

        var withData = new YamlMappingNode(map.Children);
        withData.Add("data", "1");
        return ReadPlan(reader, withData, "plan", cluster: null) is { } given ? ReadPins(reader, map, given) : PlanPins.None;
    }
}
