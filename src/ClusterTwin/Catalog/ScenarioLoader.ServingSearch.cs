using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Serving;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

public static partial class ScenarioLoader
{
    private static readonly string[] SearchVaried = ["tensor", "pipeline", "precision", "max_batch"];

    /// <summary>
    /// Loads a deployment search for <c>clustertwin serve-search</c> (docs/serving.md#search): the model, the requests
    /// and the objectives of a serving scenario, and a <c>search</c> block of systems, tensor and pipeline degrees, splits,
    /// formats and batch limits to try, with the settings every candidate shares; or throws <see cref="InputException"/>.
    /// </summary>
    public static ServingSearchScenario LoadServingSearch(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path, ScenarioFileKind.ServingSearch);
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "name", "description", "model", "requests", "objectives", "search");
        var name = reader.String(root, "name", string.Empty, required: false) ?? Path.GetFileNameWithoutExtension(path);
        var description = reader.String(root, "description", string.Empty, required: false);
        var model = ReadModel(reader, root, "model", catalog);
        var workload = ReadRequests(reader, reader.Mapping(root, "requests", string.Empty, required: true), path, model);
        var objectives = ReadObjectives(reader, reader.Mapping(root, "objectives", string.Empty, required: false));
        var search = reader.Mapping(root, "search", string.Empty, required: true);
        if (search is null)
        {
            // Its fields would each be missing too: the one error says it.
            ThrowIfUnread(reader, path, read: false);
        }

        reader.CheckKeys(search, "search", "systems", "tensor", "pipeline", "expert_parallel", "precision", "max_batch", "attainment", "max_chips", "serving", "cost", "facility", "disaggregated");
        var systems = ReadList(reader, search, "systems", "search", catalog.Systems, "system");
        var tensors = ReadIntegers(reader, search, "tensor", "search", "tensor degree");
        var pipelines = YamlReader.Child(search, "pipeline") is null ? [1] : ReadIntegers(reader, search, "pipeline", "search", "pipeline degree");
        var expertParallelism = YamlReader.Child(search, "expert_parallel") is null ? [false] : ReadSwitches(reader, search, "expert_parallel", "search");
        if (model is { MixtureOfExperts: null } && expertParallelism.Contains(true))
        {
            reader.Error(YamlReader.Child(search, "expert_parallel"), "search.expert_parallel",
                $"{model.Name} is not a mixture of experts: expert parallelism splits routed experts (leave expert_parallel out, or list [false])");
        }
        var formats = ReadList(reader, search, "precision", "search", NumberFormat.All, "precision");
        var batches = ReadIntegers(reader, search, "max_batch", "search", "batch limit");
        var attainment = reader.Number(search, "attainment", "search", 0.01, 1, required: false) ?? 0.9;
        var maximumChips = reader.Integer(search, "max_chips", "search", 1, 10_000_000, required: false) ?? 1024;
        var disaggregated = ReadSplitCandidates(reader, search, catalog);
        if (YamlReader.Child(search, "serving") is null)
        {
            search.Children[new YamlScalarNode("serving")] = new YamlMappingNode();
        }

        if (YamlReader.Child(search, "serving") is YamlMappingNode sharedSettings && YamlReader.Child(sharedSettings, "expert") is { } expertNode)
        {
            reader.Error(expertNode, "search.serving.expert", "the search varies expert parallelism: list it in search.expert_parallel instead ([false, true] tries both: split by tensor, and expert-parallel, with attention data-parallel and the routed experts split across the tensor group)");
        }

        // The shared settings, read once on the first system; each candidate replaces the cluster, degree, format and batch.
        foreach (var varied in SearchVaried)
        {
            if (YamlReader.Child(search, "serving") is YamlMappingNode shared && YamlReader.Child(shared, varied) is { } node)
            {
                reader.Error(node, $"search.serving.{varied}", $"the search varies {varied}: list the values to try in search.{varied} instead");
            }
        }

        var placeholder = systems.IsDefaultOrEmpty ? null : ServingCluster(systems[0], systems[0].Chips.Value);
        var (template, cost) = placeholder is null ? (null, new CostSettings()) : ReadPool(reader, search, "search", catalog, model, placeholder);
        ThrowIfUnread(reader, path, template is not null && workload is not null && !tensors.IsDefaultOrEmpty && !pipelines.IsDefaultOrEmpty && !expertParallelism.IsDefaultOrEmpty && !formats.IsDefaultOrEmpty && !batches.IsDefaultOrEmpty);
        var settings = new DeploymentSearchSettings
        {
            Systems = systems,
            TensorDegrees = tensors,
            PipelineDegrees = pipelines,
            ExpertParallelism = expertParallelism,
            Formats = formats,
            MaximumBatches = batches,
            Attainment = attainment,
            MaximumChips = maximumChips,
            Disaggregated = disaggregated,
        };
        return new ServingSearchScenario(name, settings, template!, workload!, objectives, cost) { Description = description };
    }

    /// <summary>The search's disaggregated candidates: <c>[{prefill: {system, tensor, precision, max_batch}, decode: {...}, transfer}]</c>.</summary>
    private static ImmutableArray<DisaggregatedCandidate> ReadSplitCandidates(YamlReader reader, YamlMappingNode search, HardwareCatalog catalog)
    {
        if (YamlReader.Child(search, "disaggregated") is not { } node)
        {
            return [];
        }

        const string path = "search.disaggregated";
        if (node is not YamlSequenceNode list)
        {
            reader.Error(node, path, "expected a list of {prefill, decode, transfer}");
            return [];
        }

        var candidates = ImmutableArray.CreateBuilder<DisaggregatedCandidate>();
        foreach (var entry in list.Children)
        {
            if (entry is not YamlMappingNode item)
            {
                reader.Error(entry, path, "expected {prefill: {system, tensor, precision, max_batch}, decode: {...}, transfer: scale-up | scale-out}");
                continue;
            }

            reader.CheckKeys(item, path, "prefill", "decode", "transfer");
            var tier = reader.Enumeration(item, "transfer", path, TransferTiers, required: false) ?? TransferTier.ScaleOut;
            var pools = PoolNames.Select(name =>
            {
                var poolPath = YamlReader.Join(path, name);
                if (reader.Mapping(item, name, path, required: true) is not { } map)
                {
                    return null;
                }

                reader.CheckKeys(map, poolPath, "system", "tensor", "precision", "max_batch");
                var system = ReadSystem(reader, map, poolPath, catalog);

                var tensor = reader.Integer(map, "tensor", poolPath, 1, 1_000_000, required: false) ?? 1;
                var format = reader.Choice(map, "precision", poolPath, NumberFormat.All, required: false) ?? NumberFormat.Bf16;
                var batch = reader.Integer(map, "max_batch", poolPath, 1, 1_000_000, required: false) ?? 256;
                return system is null ? null : new SearchCandidate(system, tensor, format, batch);
            }).ToArray();
            if (pools[0] is { } prefill && pools[1] is { } decode)
            {
                if (DisaggregatedDeployment.Incompatibility(prefill.System, decode.System, tier) is { } problem)
                {
                    reader.Error(YamlReader.Child(item, "transfer") ?? item, YamlReader.Join(path, "transfer"), problem);
                    continue;
                }

                candidates.Add(new DisaggregatedCandidate(prefill, decode, tier));
            }
        }

        return candidates.ToImmutable();
    }

    /// <summary>A list of names, each known to <paramref name="known"/>.</summary>
    private static ImmutableArray<T> ReadList<T>(YamlReader reader, YamlMappingNode map, string key, string path, IReadOnlyDictionary<string, T> known, string what)
    {
        var items = ImmutableArray.CreateBuilder<T>();
        foreach (var (item, text) in ListItems(reader, map, key, path, what, string.Join(", ", known.Keys.Take(2))))
        {
            if (known.TryGetValue(text, out var value))
            {
                items.Add(value);
            }
            else
            {
                reader.Error(item, YamlReader.Join(path, key), $"unknown {what} '{text}' (expected one of: {string.Join(", ", known.Keys)})");
            }
        }

        return items.ToImmutable();
    }

    /// <summary>A list of whole numbers of at least 1.</summary>
    private static ImmutableArray<int> ReadIntegers(YamlReader reader, YamlMappingNode map, string key, string path, string what)
    {
        var items = ImmutableArray.CreateBuilder<int>();
        foreach (var (item, text) in ListItems(reader, map, key, path, what, "1, 2"))
        {
            if (int.TryParse(text, System.Globalization.CultureInfo.InvariantCulture, out var value) && value >= 1)
            {
                items.Add(value);
            }
            else
            {
                reader.Error(item, YamlReader.Join(path, key), $"'{text}' is not a {what} (expected a whole number of at least 1)");
            }
        }

        return items.ToImmutable();
    }

    /// <summary>A list of true or false, each at most once.</summary>
    private static ImmutableArray<bool> ReadSwitches(YamlReader reader, YamlMappingNode map, string key, string path)
    {
        var items = ImmutableArray.CreateBuilder<bool>();
        foreach (var (item, text) in ListItems(reader, map, key, path, "true or false", "false, true"))
        {
            if (!bool.TryParse(text, out var value))
            {
                reader.Error(item, YamlReader.Join(path, key), $"'{text}' is not true or false");
            }
            else if (items.Contains(value))
            {
                reader.Error(item, YamlReader.Join(path, key), $"'{text}' is listed twice (list each of true and false at most once)");
            }
            else
            {
                items.Add(value);
            }
        }

        return items.ToImmutable();
    }

    private static IEnumerable<(YamlNode Item, string Text)> ListItems(YamlReader reader, YamlMappingNode map, string key, string path, string what, string example)
    {
        var node = YamlReader.Child(map, key);
        if (node is not YamlSequenceNode { Children.Count: > 0 } list)
        {
            reader.Error(node ?? map, YamlReader.Join(path, key), $"expected a list of at least one {what}, such as [{example}]");
            return [];
        }

        return list.Children.Select(item => (item, YamlReader.Scalar(item) ?? string.Empty));
    }
}
