using System.Collections.Immutable;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ClusterTwin.Planning;
using ClusterTwin.Reinforcement;
using ClusterTwin.Scenarios;
using ClusterTwin.Sweeps;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a sweep file (<c>scenario</c>: the base scenario; <c>vary</c>: each field's values; <c>search</c>,
/// <c>objective</c>) and builds its points: the base scenario's text parsed anew, each varied field set, and read as
/// <c>simulate</c> (or, with <c>search</c>, <c>plan</c>) reads a scenario.
/// </summary>
public static partial class SweepLoader
{
    private static readonly Dictionary<string, PlanObjective> Objectives = new() { ["time"] = PlanObjective.Time, ["energy"] = PlanObjective.Energy, ["cost"] = PlanObjective.Cost };

    /// <summary>Why a point cannot be a pipeline over two kinds of chip.</summary>
    private const string MixedPipelineRefused = "a sweep's points run on one kind of chip; simulate a mixed pipeline with `clustertwin simulate`, which sets its splits side by side";

    [GeneratedRegex("^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)*$")]
    private static partial Regex FieldPath();

    /// <summary>Loads the sweep <paramref name="path"/>, or throws <see cref="InputException"/> with every problem.</summary>
    public static SweepDefinition Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new InputException(path, Directory.Exists(path) ? "is a folder (expected a sweep file, such as examples/sweeps/llama3-70b-trainium-sizes.yaml)" : "sweep file not found");
        }

        var diagnostics = new List<Diagnostic>();
        var sweepText = YamlReader.ReadUtf8(path, path, diagnostics) ?? throw new InputException(diagnostics);
        var reader = YamlReader.Parse(sweepText, path);
        if (reader.Root is not { } root)
        {
            throw new InputException(reader.Diagnostics);
        }

        reader.CheckKeys(root, string.Empty, "name", "description", "scenario", "vary", "search", "objective", "attainment", "note");
        _ = reader.String(root, "description", string.Empty, required: false);
        _ = reader.String(root, "note", string.Empty, required: false);
        var name = reader.String(root, "name", string.Empty, required: false) ?? Path.GetFileNameWithoutExtension(path);
        var search = reader.Boolean(root, "search", string.Empty) ?? false;
        var objective = reader.Enumeration(root, "objective", string.Empty, Objectives, required: false);
        if (objective is not null && !search)
        {
            reader.Error(YamlReader.Child(root, "objective"), "objective", "applies to a search: add search: true (each point at its best layout), or remove it");
        }

        var (scenarioFile, scenarioText, scenarioRoot) = ReadBase(reader, root, path);
        var reinforcement = scenarioRoot is not null && ScenarioFileKinds.Is(scenarioRoot, ScenarioFileKind.Reinforcement);
        var shared = !reinforcement && scenarioRoot is not null && ScenarioFileKinds.Is(scenarioRoot, ScenarioFileKind.Shared);
        var serving = !reinforcement && !shared && scenarioRoot is not null && ScenarioFileKinds.Mismatch(scenarioRoot, ScenarioFileKind.Training, path) is not null &&
            ScenarioFileKinds.Mismatch(scenarioRoot, ScenarioFileKind.Serving, path) is null;
        var attainment = reader.Number(root, "attainment", string.Empty, 0.01, 1, required: false);
        if (attainment is not null && !serving && scenarioRoot is not null)
        {
            reader.Error(YamlReader.Child(root, "attainment"), "attainment", "applies to serving sweeps (the share of requests within their objectives a point must reach to count among the best); remove it");
        }

        if (serving && search)
        {
            reader.Error(YamlReader.Child(root, "search"), "search", "applies to training sweeps: a serving point is served as its deployment says (serve-search finds the cheapest deployment); remove it");
        }
        else if (reinforcement && search)
        {
            reader.Error(YamlReader.Child(root, "search"), "search", "applies to training sweeps: an RL point is simulated with its trainer's and rollout's layouts (vary their plan or serving fields instead); remove it");
        }
        else if (shared && search)
        {
            reader.Error(YamlReader.Child(root, "search"), "search", "applies to training sweeps: a shared cluster's jobs run with their own layouts; remove it");
        }

        var axes = ReadAxes(reader, root, scenarioRoot);
        if (reader.Diagnostics.Count > 0 || scenarioText is null || axes is null)
        {
            throw new InputException(reader.Diagnostics.Count > 0 ? reader.Diagnostics : [new Diagnostic(path, 0, string.Empty, "sweep could not be read")]);
        }

        var fingerprint = Fingerprint(sweepText, scenarioText, Traces(scenarioFile!, scenarioRoot!, axes.Value));
        return new SweepDefinition(name, path, scenarioFile!, scenarioText, axes.Value, search, objective ?? PlanObjective.Time, fingerprint) { Serving = serving, Reinforcement = reinforcement, Shared = shared, Attainment = attainment ?? 0.9 };
    }

    /// <summary>A hash of what a shard reads besides the catalogue: the sweep's text, the base scenario's, and every request trace's bytes.</summary>
    private static string Fingerprint(string sweepText, string scenarioText, IEnumerable<string> traces)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(Encoding.UTF8.GetBytes(sweepText + "\n\0\n" + scenarioText));
        foreach (var trace in traces)
        {
            hash.AppendData(Encoding.UTF8.GetBytes("\n\0" + trace + "\n"));
            hash.AppendData(File.Exists(trace) ? BoundedFile.ReadAllBytes(trace) : []);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..16];
    }

    /// <summary>The request trace files a serving sweep's points read: the base scenario's, and any the sweep sets, relative to the base scenario.</summary>
    private static IEnumerable<string> Traces(string scenarioFile, YamlMappingNode scenarioRoot, ImmutableArray<SweepAxis> axes)
    {
        var folder = Path.GetDirectoryName(scenarioFile) ?? string.Empty;
        var named = (YamlReader.Child(YamlReader.Child(scenarioRoot, "requests") as YamlMappingNode, "trace") as YamlScalarNode)?.Value is { } own ? [own] : Array.Empty<string>();
        var swept = axes.Where(axis => axis.Path == "requests.trace").SelectMany(axis => axis.Shown)
            .Concat(axes.Where(axis => axis.Path == "requests").SelectMany(axis => axis.Values.OfType<YamlMappingNode>())
                .Select(requests => (YamlReader.Child(requests, "trace") as YamlScalarNode)?.Value).OfType<string>());
        return named.Concat(swept).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).Select(trace => Path.Combine(folder, trace));
    }

    /// <summary>The base scenario the sweep names, relative to the sweep file: its path, text and top level.</summary>
    private static (string? File, string? Text, YamlMappingNode? Root) ReadBase(YamlReader reader, YamlMappingNode root, string path)
    {
        if (reader.String(root, "scenario", string.Empty) is not { } named)
        {
            return (null, null, null);
        }

        var file = Path.Combine(Path.GetDirectoryName(path) ?? string.Empty, named);
        if (!File.Exists(file))
        {
            reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}' not found (expected a training, serving or RL scenario file, relative to the sweep file: {file})");
            return (null, null, null);
        }

        if (Path.GetFullPath(file) == Path.GetFullPath(path))
        {
            reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}' is this sweep file (expected the training, serving or RL scenario the sweep varies)");
            return (null, null, null);
        }

        var diagnostics = new List<Diagnostic>();
        var text = YamlReader.ReadUtf8(file, file, diagnostics);
        var parsed = text is null ? null : YamlReader.Parse(text, file);
        if (parsed?.Root is not { } scenarioRoot)
        {
            foreach (var diagnostic in diagnostics.Concat(parsed?.Diagnostics ?? []))
            {
                reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}' cannot be read: {diagnostic}");
            }

            return (null, null, null);
        }

        if (YamlReader.Child(scenarioRoot, "mixed_pipeline") is not null)
        {
            reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}' has a mixed_pipeline block: {MixedPipelineRefused}");
        }
        else if (YamlReader.Child(scenarioRoot, "vary") is not null)
        {
            reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}' is a sweep file (expected the training, serving or RL scenario the sweep varies)");
        }
        else if (!ScenarioFileKinds.Is(scenarioRoot, ScenarioFileKind.Reinforcement) && !ScenarioFileKinds.Is(scenarioRoot, ScenarioFileKind.Shared) && ScenarioFileKinds.Mismatch(scenarioRoot, ScenarioFileKind.Training, file) is { } mismatch &&
                 ScenarioFileKinds.Mismatch(scenarioRoot, ScenarioFileKind.Serving, file) is not null)
        {
            reader.Error(YamlReader.Child(root, "scenario"), "scenario", $"'{named}': {mismatch} (a sweep's base is a training scenario, as simulate and plan read, a serving one, as serve reads, an RL post-training one, as rl reads, or a shared cluster, as share reads)");
        }

        return (file, text, scenarioRoot);
    }

    /// <summary>
    /// The <c>vary</c> block: each field's dotted path and its values, a non-empty list each. A path whose parent in the
    /// base scenario is not a mapping cannot be set.
    /// </summary>
    private static ImmutableArray<SweepAxis>? ReadAxes(YamlReader reader, YamlMappingNode root, YamlMappingNode? scenario)
    {
        if (reader.Mapping(root, "vary", string.Empty, required: true) is not { } vary)
        {
            return null;
        }

        if (vary.Children.Count == 0)
        {
            reader.Error(vary, "vary", "varies nothing: give each field's values, such as cluster.count: [4, 8, 16]");
            return null;
        }

        var axes = ImmutableArray.CreateBuilder<SweepAxis>();
        var points = 1L;
        foreach (var (key, node) in vary.Children)
        {
            var field = (key as YamlScalarNode)?.Value ?? string.Empty;
            var at = YamlReader.Join("vary", field);
            if (!FieldPath().IsMatch(field))
            {
                reader.Error(key, at, "is not a field path (expected a scenario field's dotted path, such as cluster.count or training.sequence_length)");
                continue;
            }

            if (node is not YamlSequenceNode { Children.Count: > 0 } values)
            {
                reader.Error(node, at, "expected a non-empty list of the values it takes, such as [4, 8, 16]");
                continue;
            }

            if (scenario is not null && Blocked(scenario, field) is { } blocked)
            {
                reader.Error(key, at, $"cannot be set: {blocked} in the base scenario is not a mapping of fields");
                continue;
            }

            points = points > SweepDefinition.MostPoints ? points : points * values.Children.Count;
            axes.Add(new SweepAxis(field, [.. values.Children], [.. values.Children.Select(Shown)]));
        }

        if (points > SweepDefinition.MostPoints)
        {
            reader.Error(vary, "vary", $"makes more than {SweepDefinition.MostPoints:N0} points: split it into several sweeps");
        }

        return axes.ToImmutable();
    }

    /// <summary>The first part of <paramref name="field"/>'s path that holds something other than a mapping, or null.</summary>
    private static string? Blocked(YamlMappingNode root, string field)
    {
        var parts = field.Split('.');
        var map = root;
        for (var depth = 0; depth < parts.Length - 1; depth++)
        {
            switch (YamlReader.Child(map, parts[depth]))
            {
                case null:
                    return null;
                case YamlMappingNode child:
                    map = child;
                    break;
                default:
                    return string.Join('.', parts.Take(depth + 1));
            }
        }

        return null;
    }

    /// <summary>A value as text: a scalar's, or a list or mapping in flow style.</summary>
    private static string Shown(YamlNode node) => node switch
    {
        YamlScalarNode scalar => scalar.Value ?? "null",
        YamlSequenceNode sequence => "[" + string.Join(", ", sequence.Children.Select(Shown)) + "]",
        YamlMappingNode mapping => "{" + string.Join(", ", mapping.Children.Select(pair => Shown(pair.Key) + ": " + Shown(pair.Value))) + "}",
        _ => node.ToString(),
    };

    /// <summary>
    /// Point <paramref name="point"/> of a serving sweep as a serving scenario, as <c>serve</c> reads it; throws
    /// <see cref="InputException"/> where the point cannot be read.
    /// </summary>
    public static ServingScenario LoadServingPoint(SweepDefinition sweep, long point, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return ScenarioLoader.ReadServingPoint(PointReader(sweep, point), $"{sweep.Name} #{point}", catalog, sweep.ScenarioFile);
    }

    /// <summary>
    /// Point <paramref name="point"/> of an RL post-training sweep, as <c>rl</c> reads it; throws
    /// <see cref="InputException"/> where the point cannot be read.
    /// </summary>
    public static ReinforcementScenario LoadReinforcementPoint(SweepDefinition sweep, long point, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return ScenarioLoader.ReadReinforcementPoint(PointReader(sweep, point), $"{sweep.Name} #{point}", catalog);
    }

    /// <summary>
    /// Point <paramref name="point"/> of a shared cluster's sweep, as <c>share</c> reads it; throws
    /// <see cref="InputException"/> where the point cannot be read.
    /// </summary>
    public static Sharing.SharedCluster LoadSharedPoint(SweepDefinition sweep, long point, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        return ScenarioLoader.ReadSharedPoint(PointReader(sweep, point), $"{sweep.Name} #{point}", catalog);
    }

    /// <summary>The base scenario parsed anew with point <paramref name="point"/>'s values set.</summary>
    private static YamlReader PointReader(SweepDefinition sweep, long point)
    {
        var reader = YamlReader.Parse(sweep.ScenarioText, sweep.ScenarioFile);
        var root = reader.Root ?? throw new InputException(reader.Diagnostics);
        var coordinates = sweep.Coordinates(point);
        for (var axis = 0; axis < sweep.Axes.Length; axis++)
        {
            // A copy: a later field inside this value sets into it, and the sweep's own nodes are every thread's.
            Set(root, sweep.Axes[axis].Path, Copy(sweep.Axes[axis].Values[coordinates[axis]]));
        }

        return reader;
    }

    /// <summary>
    /// Point <paramref name="point"/> of <paramref name="sweep"/> as a scenario: as <c>simulate</c> reads it, or with the
    /// sweep's search as <c>plan</c> reads it (its plan fields pinning the search). Throws <see cref="InputException"/>
    /// where the point cannot be read (a value the field does not take); its diagnostics name the base scenario's lines
    /// for the fields the sweep does not set.
    /// </summary>
    public static PlanningScenario LoadPoint(SweepDefinition sweep, long point, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(sweep);
        var reader = PointReader(sweep, point);
        var name = $"{sweep.Name} #{point}";
        if (sweep.Search)
        {
            return ScenarioLoader.ReadForPlanning(reader, name, catalog, MixedPipelineRefused);
        }

        var scenario = ScenarioLoader.ReadPoint(reader, name, catalog, MixedPipelineRefused);
        return new PlanningScenario(scenario, PlanPins.None, scenario.Plan);
    }

    /// <summary>A copy of <paramref name="node"/> and everything under it.</summary>
    private static YamlNode Copy(YamlNode node) => node switch
    {
        YamlScalarNode scalar => new YamlScalarNode(scalar.Value) { Style = scalar.Style, Tag = scalar.Tag },
        YamlSequenceNode sequence => new YamlSequenceNode(sequence.Children.Select(Copy)) { Style = sequence.Style },
        YamlMappingNode mapping => new YamlMappingNode(mapping.Children.Select(pair => new KeyValuePair<YamlNode, YamlNode>(Copy(pair.Key), Copy(pair.Value)))) { Style = mapping.Style },
        _ => node,
    };

    /// <summary>Sets <paramref name="field"/> (a dotted path) in <paramref name="root"/> to <paramref name="value"/>, making the mappings on its way.</summary>
    private static void Set(YamlMappingNode root, string field, YamlNode value)
    {
        var parts = field.Split('.');
        var map = root;
        foreach (var part in parts[..^1])
        {
            if (YamlReader.Child(map, part) is not YamlMappingNode child)
            {
                child = [];
                map.Children[new YamlScalarNode(part)] = child;
            }

            map = child;
        }

        map.Children[new YamlScalarNode(parts[^1])] = value;
    }
}
