using System.Collections.Immutable;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a serving framework from <c>catalog/frameworks/</c>.</summary>
internal static class FrameworkReader
{
    public static ServingFramework? Read(YamlReader reader)
    {
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "id", "name", "provenance", "settings", "pads_heads", "layer_overhead", "request_overhead", "request_overhead_p99", "matrix_scale", "fit", "held_out_constants", "note");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var settings = reader.Mapping(root, "settings", string.Empty, required: false);
        reader.CheckKeys(settings ?? new YamlMappingNode(), "settings", "max_batch", "max_batch_tokens", "memory_utilization", "scheduler_steps", "reserve_output", "mixed_batches");
        var own = ReadFitConstants(reader, root, string.Empty, required: false);

        var scheduler = ReadScheduler(reader, settings, "settings");
        var fit = ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
        var heldOut = ReadHeldOut(reader, reader.Mapping(root, "held_out_constants", string.Empty, required: false), fit, YamlReader.Child(root, "fit") is not null);
        return id is null || name is null || provenance is null ? null : new ServingFramework
        {
            Id = id,
            Name = name,
            Provenance = provenance,
            MaximumBatch = scheduler.MaximumBatch,
            MaximumBatchTokens = scheduler.MaximumBatchTokens,
            MemoryUtilization = scheduler.MemoryUtilization,
            SchedulerSteps = scheduler.SchedulerSteps,
            OutputReservation = scheduler.OutputReservation,
            MixedBatches = scheduler.MixedBatches,
            LayerOverhead = own.LayerOverhead ?? Duration.Zero,
            RequestOverhead = own.RequestOverhead ?? Duration.Zero,
            RequestOverheadP99 = own.RequestOverheadP99,
            MatrixScale = own.MatrixScale ?? 1,
            PadsHeads = reader.Boolean(root, "pads_heads", string.Empty) ?? false,
            Fit = fit,
            HeldOut = heldOut,
        };
    }

    /// <summary>
    /// The constants fitted without each case (<c>held_out_constants</c>, written by <c>clustertwin calibrate-serving</c>
    /// with the <c>fit</c> block): one entry per case of the fit, each with the three constants in the framework's own
    /// ranges.
    /// </summary>
    private static ImmutableDictionary<string, ServingFitConstants> ReadHeldOut(YamlReader reader, YamlMappingNode? map, FrameworkFit? fit, bool hasFitBlock)
    {
        var heldOut = ImmutableDictionary.CreateBuilder<string, ServingFitConstants>(StringComparer.Ordinal);
        const string Key = "held_out_constants";
        if (map is null || (fit is null && hasFitBlock))
        {
            // Nothing given, or a fit block that did not read (its own errors say why): nothing to check the cases against.
            return heldOut.ToImmutable();
        }

        if (fit is null)
        {
            reader.Error(map, Key, "needs the fit block that clustertwin calibrate-serving writes with it (rerun calibrate-serving, or remove held_out_constants)");
            return heldOut.ToImmutable();
        }

        foreach (var (key, node) in map.Children)
        {
            if (YamlReader.Scalar(key) is not { Length: > 0 } id)
            {
                reader.Error(key, Key, "each entry is a case id, a plain name (such as sglang-bench-vllm-llama31-70b-4xh100-rps4), then its constants");
                continue;
            }

            var path = YamlReader.Join(Key, id);
            if (!fit.FittedOn.Contains(id, StringComparer.Ordinal))
            {
                reader.Error(key, path, $"'{id}' is not one of the fit's cases (expected one of fit.fitted_on: {string.Join(", ", fit.FittedOn)}; rerun clustertwin calibrate-serving, which writes both)");
                continue;
            }

            if (node is not YamlMappingNode constants)
            {
                reader.Error(node, path, "expected a mapping of layer_overhead, request_overhead, matrix_scale and, where fitted, request_overhead_p99, such as {layer_overhead: 100 us, request_overhead: 10 ms, matrix_scale: 1}");
                continue;
            }

            reader.CheckKeys(constants, path, "layer_overhead", "request_overhead", "request_overhead_p99", "matrix_scale");
            if (ReadFitConstants(reader, constants, path, required: true) is { LayerOverhead: { } layerOverhead, RequestOverhead: { } requestOverhead, MatrixScale: { } scale, RequestOverheadP99: var p99 })
            {
                heldOut[id] = new ServingFitConstants(layerOverhead, requestOverhead, scale, p99);
            }
        }

        // The fit writes one entry per case; a list short of some was edited by hand or cut.
        var missing = fit.FittedOn.Where(id => !map.Children.ContainsKey(new YamlScalarNode(id))).ToArray();
        if (missing.Length > 0)
        {
            reader.Error(map, Key, $"has no entry for {string.Join(", ", missing)} (the fit writes one for each case of fit.fitted_on: rerun clustertwin calibrate-serving)");
        }

        return heldOut.ToImmutable();
    }

    /// <summary>
    /// The scheduler settings a framework file's <c>settings</c> and a serving scenario's <c>serving</c> block share,
    /// with their bounds; each null where not given.
    /// </summary>
    internal static SchedulerSettings ReadScheduler(YamlReader reader, YamlMappingNode? map, string path) => new(
        reader.Integer(map, "max_batch", path, 1, 1_000_000, required: false),
        reader.Integer(map, "max_batch_tokens", path, 1, 100_000_000, required: false),
        reader.Number(map, "memory_utilization", path, 0.05, 1, required: false),
        reader.Integer(map, "scheduler_steps", path, 1, 1000, required: false),
        reader.Number(map, "reserve_output", path, 0, 1, required: false),
        reader.Boolean(map, "mixed_batches", path));

    /// <summary>
    /// The constants calibrate-serving fits, with their bounds, as a framework file, one of its held-out entries or a
    /// scenario's <c>serving</c> block writes them: the time per layer per iteration, per request in the front end (its
    /// median, and its 99th percentile where it spreads, never required), and the factor on the multiplies' rate; each
    /// null where not given (an error first where <paramref name="required"/>) or refused. A 99th percentile is checked
    /// against the median beside it, or where none is, against <paramref name="inheritedMedian"/> (a scenario's
    /// framework's; zero in a framework file).
    /// </summary>
    internal static FitConstantsRead ReadFitConstants(YamlReader reader, YamlMappingNode? map, string path, bool required, (Duration Median, string Owner)? inheritedMedian = null)
    {
        var constants = new FitConstantsRead(
            reader.Quantity<Duration>(map, "layer_overhead", path, required, PlausibleRange.LayerOverhead),
            reader.Quantity<Duration>(map, "request_overhead", path, required, PlausibleRange.RequestOverhead),
            reader.Quantity<Duration>(map, "request_overhead_p99", path, required: false, PlausibleRange.RequestOverhead),
            reader.Number(map, "matrix_scale", path, 0.05, 5, required));
        if (constants.RequestOverheadP99 is { } p99)
        {
            var (median, owner) = constants.RequestOverhead is { } given ? (given, "request_overhead") : inheritedMedian ?? (Duration.Zero, "request_overhead, not given");
            var field = YamlReader.Join(path, "request_overhead_p99");
            var node = map is null ? null : YamlReader.Child(map, "request_overhead_p99");
            if (p99.Seconds < median.Seconds)
            {
                reader.Error(node, field, $"{p99} lies below the median of {median} ({owner}): a 99th percentile is at least the median (give {median} or more, or leave it out for no spread)");
            }
            else if (p99.Seconds > median.Seconds && median.Seconds <= 0)
            {
                reader.Error(node, field, $"spreads a front end whose median is zero ({owner}): the spread is log-normal about a positive median (give a positive request_overhead, or leave request_overhead_p99 out)");
            }
        }

        return constants;
    }

    internal static FrameworkFit? ReadFit(YamlReader reader, YamlMappingNode? map, string key = "fit")
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, key, "procedure", "fitted_on", "figures", "mean_absolute_error_percent", "held_out_mean_absolute_error_percent", "residual_p10", "residual_p90");
        var procedure = reader.String(map, "procedure", key);
        ImmutableArray<string> fittedOn = YamlReader.Child(map, "fitted_on") is YamlDotNet.RepresentationModel.YamlSequenceNode list ? [.. list.Select(item => YamlReader.Scalar(item) ?? string.Empty)] : [];
        var figures = reader.Integer(map, "figures", key, 0, 1_000_000);
        var error = reader.Number(map, "mean_absolute_error_percent", key, 0, 1e6);
        var heldOut = reader.Number(map, "held_out_mean_absolute_error_percent", key, 0, 1e6, required: false);
        var low = reader.Number(map, "residual_p10", key, -5, 5, required: false);
        var high = reader.Number(map, "residual_p90", key, -5, 5, required: false);
        if (low > high)
        {
            reader.Error(YamlReader.Child(map, "residual_p10"), $"{key}.residual_p10", $"{low} is above residual_p90 {high}: the 10th percentile cannot exceed the 90th (the fit writes them in order)");
        }
        return procedure is null || figures is null || error is null ? null : new FrameworkFit(procedure, fittedOn, figures.Value, error.Value, heldOut, low, high);
    }
}

/// <summary>The constants calibrate-serving fits as a file gives them: each null where it gives none.</summary>
internal readonly record struct FitConstantsRead(Duration? LayerOverhead, Duration? RequestOverhead, Duration? RequestOverheadP99, double? MatrixScale);

/// <summary>Scheduler settings as a file gives them: each null where it gives none.</summary>
internal readonly record struct SchedulerSettings(int? MaximumBatch, int? MaximumBatchTokens, double? MemoryUtilization, int? SchedulerSteps, double? OutputReservation, bool? MixedBatches);
