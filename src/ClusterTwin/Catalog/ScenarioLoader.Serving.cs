using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>A serving scenario: the deployment, the requests, the objectives and the prices.</summary>
/// <param name="Name">A label for reports.</param>
/// <param name="Deployment">The model on its replicas.</param>
/// <param name="Workload">The requests.</param>
/// <param name="Objectives">The latency objectives goodput counts against.</param>
/// <param name="Cost">The prices.</param>
public sealed record ServingScenario(string Name, ServingDeployment Deployment, RequestWorkload Workload, ServingObjectives Objectives, CostSettings Cost);

public static partial class ScenarioLoader
{
    private static readonly Dictionary<string, ArrivalKind> ArrivalKinds = new()
    {
        ["poisson"] = ArrivalKind.Poisson,
        ["all-at-once"] = ArrivalKind.AllAtOnce,
        ["trace"] = ArrivalKind.Trace,
    };

    /// <summary>Loads a serving scenario for <c>clustertwin serve</c> (docs/serving.md), or throws <see cref="InputException"/> with every problem.</summary>
    public static ServingScenario LoadServing(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path);
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "name", "description", "cluster", "model", "serving", "requests", "objectives", "cost", "facility");
        var name = reader.String(root, "name", string.Empty, required: false) ?? Path.GetFileNameWithoutExtension(path);
        var cluster = ReadCluster(reader, reader.Mapping(root, "cluster", string.Empty, required: true), "cluster", catalog);
        var model = ReadModel(reader, root, "model", catalog);
        var serving = reader.Mapping(root, "serving", string.Empty, required: true);
        reader.CheckKeys(serving ?? new YamlMappingNode(), "serving", "tensor", "precision", "kv_cache_precision", "max_batch", "max_batch_tokens", "memory_utilization");
        var tensor = reader.Integer(serving, "tensor", "serving", 1, 1_000_000, required: false) ?? 1;
        var format = reader.Choice(serving, "precision", "serving", NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        var cacheFormat = reader.Choice(serving, "kv_cache_precision", "serving", NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        var batch = reader.Integer(serving, "max_batch", "serving", 1, 1_000_000, required: false) ?? 256;
        var batchTokens = reader.Integer(serving, "max_batch_tokens", "serving", 1, 100_000_000, required: false) ?? 8192;
        var utilization = reader.Number(serving, "memory_utilization", "serving", 0.05, 1, required: false) ?? 0.9;
        var workload = ReadRequests(reader, reader.Mapping(root, "requests", string.Empty, required: true), path);
        var objectives = ReadObjectives(reader, reader.Mapping(root, "objectives", string.Empty, required: false));
        var cost = ScenarioCost.Read(reader, root, string.Empty, cluster, catalog.Prices);

        if (cluster is not null && cluster.ChipCount % tensor != 0)
        {
            reader.Error(serving, "serving.tensor", $"{tensor} does not divide the cluster's {cluster.ChipCount} chips (each replica is one tensor-parallel group)");
        }

        if (cluster is not null && !cluster.Chip.Supports(format))
        {
            reader.Error(serving, "serving.precision", $"the {cluster.Chip.Name} does not run {format.Key}");
        }

        ThrowIfUnread(reader, path, cluster is not null && model is not null && workload is not null);
        var deployment = new ServingDeployment
        {
            Cluster = cluster!,
            Efficiency = catalog.EfficiencyFor(cluster!.Chip),
            Model = model!,
            TensorParallelism = tensor,
            WeightFormat = format,
            KeyValueBytesPerElement = cacheFormat.BytesPerElement,
            MaximumBatch = batch,
            MaximumBatchTokens = batchTokens,
            MemoryUtilization = utilization,
        };

        if (deployment.KeyValueCapacityTokens < 1)
        {
            throw new InputException(path, $"the weights take {Quantity.FormatLike(deployment.WeightsPerChip, cluster.Chip.MemoryCapacity.Value)} of the {cluster.Chip.Name}'s {cluster.Chip.MemoryCapacity.Value} per chip at tensor {tensor}: no room is left for the key-value cache (raise serving.tensor or memory_utilization, or use a narrower precision)");
        }

        return new ServingScenario(name, deployment, workload!, objectives, cost);
    }

    private static RequestWorkload? ReadRequests(YamlReader reader, YamlMappingNode? map, string scenarioPath)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, "requests", "arrival", "rate", "count", "input_tokens", "output_tokens", "seed", "trace");
        var arrivals = reader.Enumeration(map, "arrival", "requests", ArrivalKinds);
        var trace = reader.String(map, "trace", "requests", required: arrivals == ArrivalKind.Trace);
        var rate = reader.Number(map, "rate", "requests", 1e-9, 1e12, required: arrivals == ArrivalKind.Poisson);
        var count = reader.Number(map, "count", "requests", 1, 1e12, required: arrivals is ArrivalKind.Poisson or ArrivalKind.AllAtOnce);
        var input = ReadTokens(reader, map, "input_tokens", arrivals != ArrivalKind.Trace);
        var output = ReadTokens(reader, map, "output_tokens", arrivals != ArrivalKind.Trace);
        var seed = reader.Integer(map, "seed", "requests", 0, int.MaxValue, required: false) ?? 1;
        var tracePath = trace is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(scenarioPath)) ?? ".", trace);
        if (tracePath is not null && !File.Exists(tracePath))
        {
            reader.Error(YamlReader.Child(map, "trace"), "requests.trace", $"'{trace}' not found (a CSV of arrival_seconds,input_tokens,output_tokens, beside the scenario)");
        }

        return arrivals is null ? null : new RequestWorkload
        {
            Arrivals = arrivals.Value,
            Rate = rate ?? 0,
            Requests = (long)(count ?? 0),
            InputTokens = input ?? default,
            OutputTokens = output ?? default,
            Seed = seed,
            TraceFile = tracePath,
        };
    }

    /// <summary>A token count: a number, or <c>[low, high]</c> for a uniform draw.</summary>
    private static TokenCount? ReadTokens(YamlReader reader, YamlMappingNode map, string key, bool required)
    {
        var node = YamlReader.Child(map, key);
        if (node is YamlSequenceNode { Children.Count: 2 } pair &&
            int.TryParse(YamlReader.Scalar(pair.Children[0]), System.Globalization.CultureInfo.InvariantCulture, out var low) &&
            int.TryParse(YamlReader.Scalar(pair.Children[1]), System.Globalization.CultureInfo.InvariantCulture, out var high) && low >= 1 && high >= low)
        {
            return new TokenCount(low, high);
        }

        if (node is YamlSequenceNode)
        {
            reader.Error(node, $"requests.{key}", "expected [low, high], whole numbers with 1 <= low <= high");
            return null;
        }

        var count = reader.Integer(map, key, "requests", 1, 100_000_000, required);
        return count is { } fixedCount ? TokenCount.Fixed(fixedCount) : null;
    }

    private static ServingObjectives ReadObjectives(YamlReader reader, YamlMappingNode? map)
    {
        reader.CheckKeys(map ?? new YamlMappingNode(), "objectives", "ttft", "tpot");
        var ttft = reader.Quantity<Duration>(map, "ttft", "objectives", required: false);
        var tpot = reader.Quantity<Duration>(map, "tpot", "objectives", required: false);
        var none = new ServingObjectives();
        return new ServingObjectives(ttft ?? none.TimeToFirstToken, tpot ?? none.TimePerOutputToken);
    }
}
