using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

public static partial class ScenarioLoader
{
    private static readonly Dictionary<string, ArrivalKind> ArrivalKinds = new()
    {
        ["poisson"] = ArrivalKind.Poisson,
        ["bursty"] = ArrivalKind.Bursty,
        ["all-at-once"] = ArrivalKind.AllAtOnce,
        ["trace"] = ArrivalKind.Trace,
    };

    /// <summary>The scenario's word for <paramref name="arrivals"/> (<c>requests.arrival</c>).</summary>
    public static string ArrivalKey(ArrivalKind arrivals) => ArrivalKinds.First(entry => entry.Value == arrivals).Key;

    /// <summary>The most requests a generated workload may hold: ten million simulate in about a minute on two cores.</summary>
    private const int MaximumRequests = 10_000_000;

    private static readonly Dictionary<string, TransferTier> TransferTiers = new() { ["scale-up"] = TransferTier.ScaleUp, ["scale-out"] = TransferTier.ScaleOut };

    private static readonly string[] PoolKeys = ["cluster", "serving", "cost", "facility"];

    private static readonly string[] PoolNames = ["prefill", "decode"];

    /// <summary>Stored weight formats narrower than any multiply format: weight-only quantization.</summary>
    private static readonly Dictionary<string, double> WeightOnlyFormats = new(StringComparer.Ordinal) { ["int8"] = 1, ["int4"] = 0.5 };

    /// <summary>Loads a serving scenario for <c>clustertwin serve</c> (docs/serving.md), or throws <see cref="InputException"/> with every problem.</summary>
    public static ServingScenario LoadServing(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path, ScenarioFileKind.Serving);
        var scenario = ReadServing(reader, reader.Root!, string.Empty, catalog, Path.GetFileNameWithoutExtension(path), path);
        ThrowIfUnread(reader, path, scenario is not null);
        return scenario!;
    }

    /// <summary>
    /// Reads the serving scenario <paramref name="reader"/> holds (a sweep's point), named <paramref name="name"/>, its
    /// request traces relative to <paramref name="file"/>, as <see cref="LoadServing"/> reads a file.
    /// </summary>
    internal static ServingScenario ReadServingPoint(YamlReader reader, string name, HardwareCatalog catalog, string file)
    {
        var scenario = ReadServing(reader, reader.Root!, string.Empty, catalog, name, file);
        ThrowIfUnread(reader, reader.File, scenario is not null);
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
        reader.CheckKeys(root, path, "name", "description", "cluster", "model", "serving", "disaggregated", "requests", "objectives", "cost", "facility");
        var name = reader.String(root, "name", path, required: false) ?? fallbackName;
        _ = reader.String(root, "description", path, required: false);
        var model = ReadModel(reader, root, At("model"), catalog);
        var workload = ReadRequests(reader, reader.Mapping(root, "requests", path, required: true), file, model);
        var objectives = ReadObjectives(reader, reader.Mapping(root, "objectives", path, required: false));
        var split = reader.Mapping(root, "disaggregated", path, required: false);
        if (split is null)
        {
            var (deployment, cost) = ReadPool(reader, root, path, catalog, model);
            return deployment is null || workload is null || reader.Diagnostics.Count > 0 ? null : new ServingScenario(name, deployment, workload, objectives, cost);
        }

        foreach (var key in PoolKeys)
        {
            if (YamlReader.Child(root, key) is { } misplaced)
            {
                reader.Error(misplaced, At(key), "a disaggregated scenario gives cluster, serving, cost and facility in each pool (disaggregated.prefill and disaggregated.decode)");
            }
        }

        var splitPath = At("disaggregated");
        reader.CheckKeys(split, splitPath, "transfer", "prefill", "decode");
        var tier = reader.Enumeration(split, "transfer", splitPath, TransferTiers, required: false) ?? TransferTier.ScaleOut;
        var pools = PoolNames.Select(pool =>
        {
            var poolPath = YamlReader.Join(splitPath, pool);
            var map = reader.Mapping(split, pool, splitPath, required: true);
            reader.CheckKeys(map ?? new YamlMappingNode(), poolPath, "cluster", "serving", "cost", "facility");
            return map is null ? (null, new CostSettings()) : ReadPool(reader, map, poolPath, catalog, model);
        }).ToArray();
        if (pools[0].Deployment is not { } prefill || pools[1].Deployment is not { } decode || workload is null || reader.Diagnostics.Count > 0)
        {
            return null;
        }

        if (prefill.Speculation is not null || decode.Speculation is not null)
        {
            reader.Error(split, splitPath, "speculative decoding is not modelled in disaggregated serving yet (the draft's prefill and cache would have to move with the request): serve it in one pool");
            return null;
        }

        var disaggregated = new DisaggregatedDeployment { Prefill = prefill, Decode = decode, Tier = tier };
        if (disaggregated.Problem is { } problem)
        {
            reader.Error(YamlReader.Child(split, "transfer") ?? split, YamlReader.Join(splitPath, "transfer"), problem);
            return null;
        }

        return new ServingScenario(name, decode, workload, objectives, pools[1].Cost) { Split = disaggregated, PrefillCost = pools[0].Cost };
    }

    /// <summary>
    /// Reads one pool's <c>cluster</c>, <c>serving</c> and <c>cost</c> in <paramref name="map"/>: a whole scenario's,
    /// or a disaggregated scenario's prefill or decode pool. Given a <paramref name="placeholder"/> cluster, it reads a
    /// search's shared settings instead, unchecked against that cluster (each candidate replaces it).
    /// </summary>
    private static (ServingDeployment? Deployment, CostSettings Cost) ReadPool(YamlReader reader, YamlMappingNode map, string path, HardwareCatalog catalog, Workloads.ModelArchitecture? model, Cluster? placeholder = null)
    {
        string At(string key) => YamlReader.Join(path, key);
        var template = placeholder is not null;
        // The checks below that combine several fields run only when this pool's fields read cleanly: after an error
        // (tensor 0 read as 1, a missing fabric) they would be about values never given.
        var errorsBefore = reader.Diagnostics.Count;
        var cluster = placeholder ?? ReadCluster(reader, reader.Mapping(map, "cluster", path, required: true), At("cluster"), catalog);
        if (!template && cluster is not null && reader.Diagnostics.Count == errorsBefore && cluster.SystemCount > 1 && cluster.ChipCount > cluster.Fabric.MaximumEndpoints)
        {
            reader.Error(reader.Mapping(map, "cluster", path, required: false), At("cluster"), $"the fabric {cluster.Fabric.Id} reaches at most {cluster.Fabric.MaximumEndpoints:N0} chips; the cluster has {cluster.ChipCount:N0} (fewer systems, or a fabric of more tiers)");
        }

        var serving = reader.Mapping(map, "serving", path, required: true);
        var servingPath = At("serving");
        reader.CheckKeys(serving ?? new YamlMappingNode(), servingPath, "framework", "tensor", "pipeline", "expert", "precision", "weight_precision", "kv_cache_precision", "max_batch", "max_batch_tokens",
            "memory_utilization", "layer_overhead", "request_overhead", "request_overhead_p99", "matrix_scale", "scheduler_steps", "reserve_output", "mixed_batches", "speculative");
        var frameworkId = reader.String(serving, "framework", servingPath, required: false);
        ServingFramework? framework = null;
        if (frameworkId is not null && !catalog.Frameworks.TryGetValue(frameworkId, out framework))
        {
            reader.Error(YamlReader.Child(serving!, "framework"), At("serving.framework"), $"unknown framework '{frameworkId}' (expected one of: {string.Join(", ", catalog.Frameworks.Keys)})");
        }

        var tensor = reader.Integer(serving, "tensor", servingPath, 1, 1_000_000, required: false) ?? 1;
        var pipeline = reader.Integer(serving, "pipeline", servingPath, 1, 1_000, required: false) ?? 1;
        var expert = reader.Integer(serving, "expert", servingPath, 1, 1_000_000, required: false) ?? 1;
        var format = reader.Choice(serving, "precision", servingPath, NumberFormat.All, required: false) ?? NumberFormat.Bf16;
        var storedWeights = ReadWeightPrecision(reader, serving, servingPath);
        var cacheFormat = reader.Choice(serving, "kv_cache_precision", servingPath, NumberFormat.All, required: false) ?? NumberFormat.Bf16;

        // The framework's settings where the scenario gives none, then the defaults of a vLLM-like server.
        var scheduler = FrameworkReader.ReadScheduler(reader, serving, servingPath);
        var batch = scheduler.MaximumBatch ?? framework?.MaximumBatch ?? 256;
        var batchTokens = scheduler.MaximumBatchTokens ?? framework?.MaximumBatchTokens ?? 8192;
        var utilization = scheduler.MemoryUtilization ?? framework?.MemoryUtilization ?? 0.9;
        var inherited = framework is null ? ((Duration, string)?)null : (framework.RequestOverhead, $"the framework {framework.Id}'s request_overhead, as the scenario gives none");
        var given = FrameworkReader.ReadFitConstants(reader, serving, servingPath, required: false, inherited);
        var layerOverhead = given.LayerOverhead ?? framework?.LayerOverhead ?? Duration.Zero;
        var requestOverhead = given.RequestOverhead ?? framework?.RequestOverhead ?? Duration.Zero;

        // A median given alone is every request's time; a 99th percentile given alone spreads the framework's median.
        var requestOverheadP99 = given.RequestOverheadP99 ?? (given.RequestOverhead is null ? framework?.RequestOverheadP99 : null);

        var matrixScale = given.MatrixScale ?? framework?.MatrixScale ?? 1;
        var steps = scheduler.SchedulerSteps ?? framework?.SchedulerSteps ?? 1;
        var reserve = scheduler.OutputReservation ?? framework?.OutputReservation ?? 0;
        var mixed = scheduler.MixedBatches ?? framework?.MixedBatches ?? true;
        var cost = ScenarioCost.Read(reader, map, path, cluster, catalog.Prices);
        var speculation = ReadSpeculation(reader, serving, servingPath, catalog, model);

        if (!template && cluster is not null && cluster.ChipCount % ((long)tensor * pipeline) != 0)
        {
            reader.Error(serving, At(pipeline > 1 ? "serving.pipeline" : "serving.tensor"), $"tensor {tensor} x pipeline {pipeline} does not divide the cluster's {cluster.ChipCount} chips (each replica is one tensor-parallel group per stage)");
        }

        if (!template && cluster is not null && (long)tensor * pipeline is var perReplica && perReplica > 1 &&
            cluster.System.Chips.Value % perReplica != 0 && perReplica % cluster.System.Chips.Value != 0)
        {
            reader.Error(serving, At(pipeline > 1 ? "serving.pipeline" : "serving.tensor"), $"a replica of tensor {tensor} x pipeline {pipeline} = {perReplica} chips would straddle two of the cluster's systems, which hold {cluster.System.Chips.Value} chips each ({cluster.System.Name}): choose tensor x pipeline that divides {cluster.System.Chips.Value}, or a multiple of it");
        }
        else if (!template && cluster is not null && pipeline > 1 && (long)tensor * pipeline > cluster.System.Chips.Value &&
                 cluster.System.Chips.Value % tensor != 0 && tensor % cluster.System.Chips.Value != 0)
        {
            reader.Error(serving, At("serving.tensor"), $"a stage's tensor group of {tensor} chips would straddle two of the cluster's systems, which hold {cluster.System.Chips.Value} chips each ({cluster.System.Name}): choose a tensor degree that divides {cluster.System.Chips.Value}, or a multiple of it");
        }

        if (model is not null && pipeline > model.Layers)
        {
            reader.Error(serving, At("serving.pipeline"), $"{pipeline} stages are more than the {model.Name}'s {model.Layers} layers");
        }

        if (!template && expert > 1 && ServingDeployment.ExpertParallelProblem(model, tensor, pipeline, expert, speculation is not null) is { } problem)
        {
            reader.Error(YamlReader.Child(serving!, "expert") ?? serving, At("serving.expert"), problem);
        }

        if (!template && cluster is not null && !cluster.Chip.Supports(format))
        {
            reader.Error(serving, At("serving.precision"), $"the {cluster.Chip.Name} does not run {format.Key}");
        }

        if (cluster is null || model is null || serving is null)
        {
            return (null, cost);
        }

        var deployment = new ServingDeployment
        {
            Cluster = cluster,
            Efficiency = catalog.EfficiencyFor(cluster.Chip),
            Model = model,
            TensorParallelism = tensor,
            PipelineParallelism = pipeline,
            WeightFormat = format,
            StoredWeightBytesPerElement = storedWeights,
            KeyValueBytesPerElement = cacheFormat.BytesPerElement,
            MaximumBatch = batch,
            MaximumBatchTokens = batchTokens,
            MemoryUtilization = utilization,
            LayerOverhead = layerOverhead,
            RequestOverhead = requestOverhead,
            RequestOverheadP99 = requestOverheadP99,
            MatrixScale = matrixScale,
            SchedulerSteps = steps,
            OutputReservation = reserve,
            MixedBatches = mixed,
            Framework = framework,
            Speculation = speculation,
            ExpertParallel = expert > 1,
        };

        var clean = reader.Diagnostics.Count == errorsBefore;
        if (!template && clean && deployment.HeadSplitProblem() is { } split)
        {
            reader.Error(YamlReader.Child(serving!, "tensor") ?? serving, At("serving.tensor"), split);
            return (null, cost);
        }

        if (!template && clean && deployment.KeyValueCapacityTokens < 1)
        {
            reader.Error(serving, servingPath, $"the weights take {Quantity.FormatLike(deployment.WeightsPerChip, cluster.Chip.MemoryCapacity.Value)} of the {cluster.Chip.Name}'s {cluster.Chip.MemoryCapacity.Value} per chip at tensor {tensor}{(pipeline > 1 ? $" x pipeline {pipeline}" : string.Empty)}: no room is left for the key-value cache (raise serving.tensor, serving.pipeline or memory_utilization, or use a narrower precision)");
            return (null, cost);
        }

        return (deployment, cost);
    }

    /// <summary><c>speculative: {draft: MODEL, draft_tokens: K, acceptance: A}</c>: speculative decoding with a draft model of the catalogue.</summary>
    private static Speculation? ReadSpeculation(YamlReader reader, YamlMappingNode? serving, string path, HardwareCatalog catalog, Workloads.ModelArchitecture? model)
    {
        var map = reader.Mapping(serving, "speculative", path, required: false);
        if (map is null)
        {
            return null;
        }

        var field = YamlReader.Join(path, "speculative");
        reader.CheckKeys(map, field, "draft", "draft_tokens", "acceptance");
        var draft = ReadModel(reader, map, YamlReader.Join(field, "draft"), catalog, "draft");
        var tokens = reader.Integer(map, "draft_tokens", field, 1, 64);
        var acceptance = reader.Number(map, "acceptance", field, 0, 1);
        if (draft is not null && model is not null && draft.VocabularySize != model.VocabularySize)
        {
            reader.Error(map, YamlReader.Join(field, "draft"), $"the draft {draft.Name} has a vocabulary of {draft.VocabularySize:N0} tokens, the model {model.VocabularySize:N0}: a draft must share the model's tokenizer");
        }

        return draft is null || tokens is null || acceptance is null ? null : new Speculation(draft, tokens.Value, acceptance.Value);
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

    private static RequestWorkload? ReadRequests(YamlReader reader, YamlMappingNode? map, string scenarioPath, Workloads.ModelArchitecture? model)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, "requests", "arrival", "rate", "burstiness", "count", "input_tokens", "output_tokens", "seed", "trace");
        var arrivals = reader.Enumeration(map, "arrival", "requests", ArrivalKinds);
        var trace = reader.String(map, "trace", "requests", required: arrivals == ArrivalKind.Trace);
        var rate = reader.Number(map, "rate", "requests", 1e-9, 1e12, required: arrivals is ArrivalKind.Poisson or ArrivalKind.Bursty);
        var burstiness = reader.Number(map, "burstiness", "requests", 0.01, 100, required: arrivals == ArrivalKind.Bursty);
        var count = reader.Integer(map, "count", "requests", 1, MaximumRequests, required: arrivals is ArrivalKind.Poisson or ArrivalKind.Bursty or ArrivalKind.AllAtOnce);
        var input = ReadTokens(reader, map, "input_tokens", arrivals != ArrivalKind.Trace);
        var output = ReadTokens(reader, map, "output_tokens", arrivals != ArrivalKind.Trace);
        var seed = reader.Integer(map, "seed", "requests", 0, int.MaxValue, required: false) ?? 1;
        // A field the arrival kind does not read is a mistake, not something to ignore silently.
        foreach (var (key, applies, kinds) in new[]
        {
            ("rate", arrivals is ArrivalKind.Poisson or ArrivalKind.Bursty, "poisson and bursty"),
            ("burstiness", arrivals == ArrivalKind.Bursty, "bursty"),
            ("count", arrivals != ArrivalKind.Trace, "poisson, bursty and all-at-once (a trace has as many requests as lines)"),
            ("input_tokens", arrivals != ArrivalKind.Trace, "poisson, bursty and all-at-once (a trace gives each request's)"),
            ("output_tokens", arrivals != ArrivalKind.Trace, "poisson, bursty and all-at-once (a trace gives each request's)"),
            ("trace", arrivals == ArrivalKind.Trace, "trace"),
        })
        {
            if (arrivals is not null && !applies && YamlReader.Child(map, key) is { } unused)
            {
                reader.Error(unused, YamlReader.Join("requests", key), $"does not apply to arrival: {ArrivalKey(arrivals.Value)} (only to {kinds}); remove it");
            }
        }

        var tracePath = trace is null ? null : Path.Combine(Path.GetDirectoryName(Path.GetFullPath(scenarioPath)) ?? ".", trace);
        if (tracePath is not null && Directory.Exists(tracePath))
        {
            reader.Error(YamlReader.Child(map, "trace"), "requests.trace", $"'{trace}' is a folder (expected a CSV file of arrival_seconds,input_tokens,output_tokens, beside the scenario)");
        }
        else if (tracePath is not null && !File.Exists(tracePath))
        {
            reader.Error(YamlReader.Child(map, "trace"), "requests.trace", $"'{trace}' not found (a CSV of arrival_seconds,input_tokens,output_tokens, beside the scenario)");
        }
        else if (tracePath is not null && RequestWorkload.TraceProblem(tracePath) is { } problem)
        {
            // Checked now, not only as the trace streams: a search whose every candidate is refused would never read it.
            reader.Error(YamlReader.Child(map, "trace"), "requests.trace", problem.StartsWith("no requests", StringComparison.Ordinal)
                ? $"'{trace}' holds {problem}"
                : $"'{trace}', {problem}");
        }

        if (model?.LearnedPositions is { } positions && input is { } prompts && output is { } outputs && (long)prompts.High + outputs.High > positions)
        {
            // A learned position table has no entry past its length; a trace's requests are not read here.
            reader.Error(YamlReader.Child(map, "input_tokens"), "requests.input_tokens", $"a prompt and its output reach {(long)prompts.High + outputs.High:N0} tokens, past the {positions:N0} learned positions of {model.Name} (its position table ends there)");
        }

        if (count is { } requests && rate is { } perSecond && requests / perSecond > 1e9)
        {
            reader.Error(YamlReader.Child(map, "rate"), "requests.rate", $"{requests:N0} requests at {perSecond} per second would arrive over {requests / perSecond:0.#e0} s, past the 1e9 s (about 30 years) a simulation keeps its times exact to; raise the rate or lower the count");
        }

        return arrivals is null ? null : new RequestWorkload
        {
            Arrivals = arrivals.Value,
            Rate = rate ?? 0,
            Burstiness = burstiness ?? 1,
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
        var ttft = reader.Quantity<Duration>(map, "ttft", "objectives", required: false, range: PlausibleRange.LatencyObjective);
        var tpot = reader.Quantity<Duration>(map, "tpot", "objectives", required: false, range: PlausibleRange.LatencyObjective);
        foreach (var (key, limit) in new[] { ("ttft", ttft), ("tpot", tpot) })
        {
            if (limit == Duration.Zero)
            {
                reader.Error(YamlReader.Child(map, key), YamlReader.Join("objectives", key), "0 s can never be met (expected a duration above zero, such as 500 ms)");
            }
        }

        var none = new ServingObjectives();
        return new ServingObjectives(ttft ?? none.TimeToFirstToken, tpot ?? none.TimePerOutputToken);
    }
}
