using System.Collections.Immutable;
using ClusterTwin.Serving;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Catalog;

/// <summary>Reads a serving framework from <c>catalog/frameworks/</c>.</summary>
internal static class FrameworkReader
{
    public static ServingFramework? Read(YamlReader reader)
    {
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "id", "name", "provenance", "settings", "layer_overhead", "request_overhead", "matrix_scale", "fit", "note");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var settings = reader.Mapping(root, "settings", string.Empty, required: false);
        reader.CheckKeys(settings ?? new YamlDotNet.RepresentationModel.YamlMappingNode(), "settings", "max_batch", "max_batch_tokens", "memory_utilization", "scheduler_steps", "reserve_output", "mixed_batches");
        var overhead = reader.Quantity<Duration>(root, "layer_overhead", string.Empty, required: false) ?? Duration.Zero;
        var requestOverhead = reader.Quantity<Duration>(root, "request_overhead", string.Empty, required: false) ?? Duration.Zero;

        var fit = ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
        return id is null || name is null || provenance is null ? null : new ServingFramework
        {
            Id = id,
            Name = name,
            Provenance = provenance,
            MaximumBatch = reader.Integer(settings, "max_batch", "settings", 1, 1_000_000, required: false),
            MaximumBatchTokens = reader.Integer(settings, "max_batch_tokens", "settings", 1, 100_000_000, required: false),
            MemoryUtilization = reader.Number(settings, "memory_utilization", "settings", 0.05, 1, required: false),
            SchedulerSteps = reader.Integer(settings, "scheduler_steps", "settings", 1, 1000, required: false),
            OutputReservation = reader.Number(settings, "reserve_output", "settings", 0, 1, required: false),
            MixedBatches = reader.Boolean(settings, "mixed_batches", "settings"),
            LayerOverhead = overhead,
            RequestOverhead = requestOverhead,
            MatrixScale = reader.Number(root, "matrix_scale", string.Empty, 0.05, 5, required: false) ?? 1,
            Fit = fit,
        };
    }

    internal static FrameworkFit? ReadFit(YamlReader reader, YamlDotNet.RepresentationModel.YamlMappingNode? map)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, "fit", "procedure", "fitted_on", "figures", "mean_absolute_error_percent", "held_out_mean_absolute_error_percent", "residual_p10", "residual_p90");
        var procedure = reader.String(map, "procedure", "fit");
        ImmutableArray<string> fittedOn = YamlReader.Child(map, "fitted_on") is YamlDotNet.RepresentationModel.YamlSequenceNode list ? [.. list.Select(item => YamlReader.Scalar(item) ?? string.Empty)] : [];
        var figures = reader.Integer(map, "figures", "fit", 0, 1_000_000);
        var error = reader.Number(map, "mean_absolute_error_percent", "fit", 0, 1e6);
        var heldOut = reader.Number(map, "held_out_mean_absolute_error_percent", "fit", 0, 1e6, required: false);
        var low = reader.Number(map, "residual_p10", "fit", -5, 5, required: false);
        var high = reader.Number(map, "residual_p90", "fit", -5, 5, required: false);
        return procedure is null || figures is null || error is null ? null : new FrameworkFit(procedure, fittedOn, figures.Value, error.Value, heldOut, low, high);
    }
}
