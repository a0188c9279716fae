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

    /// <summary>Stored weight formats narrower than any multiply format: weight-only quantization.</summary>
    private static readonly Dictionary<string, double> WeightOnlyFormats = new(StringComparer.Ordinal) { ["int8"] = 1, ["int4"] = 0.5 };

    /// <summary>Loads a serving scenario for <c>clustertwin serve</c> (docs/serving.md), or throws <see cref="InputException"/> with every problem.</summary>
    public static ServingScenario LoadServing(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path);
        var scenario = ReadServing(reader, reader.Root!, string.Empty, catalog, Path.GetFileNameWithoutExtension(path), path);
        ThrowIfUnread(reader, path, scenario is not null);
        return scenario!;
    }

    /// <summary>
    /// Reads a serving scenario at <paramref name="path"/> in <paramref name="root"/> (a file's root, or a validation
    /// case's <c>scenario</c>), adding any problem to <paramref name="reader"/>; null when it cannot be built.
    /// </summary>
    internal static ServingScenario? ReadServing(YamlReader reader, YamlMappingNode root, string path, HardwareCatalog catalog, string fallbackName, string file)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(catalog);
        string At(string key) => YamlReader.Join(path, key);
        reader.CheckKeys(root, path, "name", "description", "cluster", "model", "serving", "requests", "objectives", "cost", "facility");
        var name = reader.String(root, "name", path, required: false) ?? fallbackName;
        var cluster = ReadCluster(reader, reader.Mapping(root, "cluster", path, required: true), At("cluster"), catalog);
        var model = ReadModel(reader, root, At("model"), catalog);
        var serving = reader.Mapping(root, "serving", path, required: true);
        var servingPath = At("serving");
        reader.CheckKeys(serving ?? new YamlMappingNode(), servingPath, "framework", "tensor", "precision", "weight_precision", "kv_cache_precision", "max_batch", "max_batch_tokens",
            "memory_utilization", "iteration_overhead", "layer_overhead", "scheduler_steps", "reserve_output", "mixed_batches");
        var frameworkId = reader.String(serving, "framework", servingPath, required: false);
        ServingFramework? framework = null;
        if (frameworkId is not null && !catalog.Frameworks.TryGetValue(frameworkId, out framework))
        {
            reader.Error(YamlReader.Child(serving!, "framework"), At("serving.framework"), $"unknown framework '{frameworkId}' (expected one of: {string.Join(", ", catalog.Frameworks.Keys)})");
        }

        var tensor = reader.Integer(serving, "tensor", servingPath, 1, 1_000_000, required: false) ?? 1;
        var format = reader.Choice(serving, "precision", servingPath, NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        var storedWeights = ReadWeightPrecision(reader, serving, servingPath);
        var cacheFormat = reader.Choice(serving, "kv_cache_precision", servingPath, NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        // The framework's settings where the scenario gives none, then the defaults of a vLLM-like server.
        var batch = reader.Integer(serving, "max_batch", servingPath, 1, 1_000_000, required: false) ?? framework?.MaximumBatch ?? 256;
        var batchTokens = reader.Integer(serving, "max_batch_tokens", servingPath, 1, 100_000_000, required: false) ?? framework?.MaximumBatchTokens ?? 8192;
        var utilization = reader.Number(serving, "memory_utilization", servingPath, 0.05, 1, required: false) ?? framework?.MemoryUtilization ?? 0.9;
        var overhead = reader.Quantity<Duration>(serving, "iteration_overhead", servingPath, required: false) ?? Duration.Zero;
        var layerOverhead = reader.Quantity<Duration>(serving, "layer_overhead", servingPath, required: false) ?? framework?.LayerOverhead ?? Duration.Zero;
        var steps = reader.Integer(serving, "scheduler_steps", servingPath, 1, 1000, required: false) ?? framework?.SchedulerSteps ?? 1;
        var reserve = reader.Number(serving, "reserve_output", servingPath, 0, 1, required: false) ?? framework?.OutputReservation ?? 0;
        var mixed = reader.Boolean(serving, "mixed_batches", servingPath) ?? framework?.MixedBatches ?? true;
        var workload = ReadRequests(reader, reader.Mapping(root, "requests", path, required: true), file);
        var objectives = ReadObjectives(reader, reader.Mapping(root, "objectives", path, required: false));
        var cost = ScenarioCost.Read(reader, root, path, cluster, catalog.Prices);

        if (cluster is not null && cluster.ChipCount % tensor != 0)
        {
            reader.Error(serving, At("serving.tensor"), $"{tensor} does not divide the cluster's {cluster.ChipCount} chips (each replica is one tensor-parallel group)");
        }

        if (cluster is not null && !cluster.Chip.Supports(format))
        {
            reader.Error(serving, At("serving.precision"), $"the {cluster.Chip.Name} does not run {format.Key}");
        }

        foreach (var (key, value) in new[] { ("iteration_overhead", overhead), ("layer_overhead", layerOverhead) })
        {
            if (value.Seconds < 0 || !double.IsFinite(value.Seconds))
            {
                reader.Error(serving, At($"serving.{key}"), $"{value} is not an overhead (expected zero or a positive duration, such as 2 ms)");
            }
        }

        if (reader.Diagnostics.Count > 0 || cluster is null || model is null || workload is null)
        {
            return null;
        }

        var deployment = new ServingDeployment
        {
            Cluster = cluster,
            Efficiency = catalog.EfficiencyFor(cluster.Chip),
            Model = model,
            TensorParallelism = tensor,
            WeightFormat = format,
            StoredWeightBytesPerElement = storedWeights,
            KeyValueBytesPerElement = cacheFormat.BytesPerElement,
            MaximumBatch = batch,
            MaximumBatchTokens = batchTokens,
            MemoryUtilization = utilization,
            IterationOverhead = overhead,
            LayerOverhead = layerOverhead,
            SchedulerSteps = steps,
            OutputReservation = reserve,
            MixedBatches = mixed,
            Framework = framework,
        };

        if (deployment.KeyValueCapacityTokens < 1)
        {
            reader.Error(serving!, servingPath, $"the weights take {Quantity.FormatLike(deployment.WeightsPerChip, cluster.Chip.MemoryCapacity.Value)} of the {cluster.Chip.Name}'s {cluster.Chip.MemoryCapacity.Value} per chip at tensor {tensor}: no room is left for the key-value cache (raise serving.tensor or memory_utilization, or use a narrower precision)");
            return null;
        }

        return new ServingScenario(name, deployment, workload, objectives, cost);
    }

    /// <summary>Bytes per stored weight where <c>weight_precision</c> names one: a multiply format, or int8/int4 (weight-only quantization).</summary>
    private static double? ReadWeightPrecision(YamlReader reader, YamlMappingNode? serving, string path)
    {
        var key = reader.String(serving, "weight_precision", path, required: false);
        if (key is null)
        {
            return null;
        }

        if (WeightOnlyFormats.TryGetValue(key, out var bytes))
        {
            return bytes;
        }

        if (NumberFormat.All.TryGetValue(key, out var format))
        {
            return format.BytesPerElement;
        }

        reader.Error(YamlReader.Child(serving!, "weight_precision")!, YamlReader.Join(path, "weight_precision"),
            $"unknown weight precision '{key}' (expected one of: {string.Join(", ", NumberFormat.All.Keys.Concat(WeightOnlyFormats.Keys))})");
        return null;
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

    /// <summary>A token count: a number, <c>[low, high]</c> for a uniform draw, or <c>{median, spread, range}</c> for a log-normal one.</summary>
    private static TokenCount? ReadTokens(YamlReader reader, YamlMappingNode map, string key, bool required, string parent = "requests")
    {
        var node = YamlReader.Child(map, key);
        if (node is YamlMappingNode distribution)
        {
            var path = $"{parent}.{key}";
            reader.CheckKeys(distribution, path, "median", "spread", "range");
            var median = reader.Number(distribution, "median", path, 1, 100_000_000);
            var spread = reader.Number(distribution, "spread", path, 1e-6, 10);
            var bounds = ReadTokens(reader, distribution, "range", required: true, path);
            if (median is { } middle && bounds is { } range && (middle < range.Low || middle > range.High))
            {
                reader.Error(distribution, path + ".median", $"{middle} lies outside the range [{range.Low}, {range.High}]");
            }

            return median is null || spread is null || bounds is null ? null : TokenCount.LogNormal(median.Value, spread.Value, bounds.Value.Low, bounds.Value.High);
        }

        if (node is YamlSequenceNode { Children.Count: 2 } pair &&
            int.TryParse(YamlReader.Scalar(pair.Children[0]), System.Globalization.CultureInfo.InvariantCulture, out var low) &&
            int.TryParse(YamlReader.Scalar(pair.Children[1]), System.Globalization.CultureInfo.InvariantCulture, out var high) && low >= 1 && high >= low)
        {
            return new TokenCount(low, high);
        }

        if (node is YamlSequenceNode)
        {
            reader.Error(node, $"{parent}.{key}", "expected [low, high], whole numbers with 1 <= low <= high");
            return null;
        }

        var count = reader.Integer(map, key, parent, 1, 100_000_000, required);
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
