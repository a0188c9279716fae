using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a chip family's efficiency curves from <c>catalog/efficiency/</c>.</summary>
internal static class EfficiencyReader
{
    public static ChipEfficiency? Read(YamlReader reader)
    {
        var root = reader.Root;
        reader.CheckKeys(root!, string.Empty, "family", "provenance", "matrix", "attention", "memory", "scale_up_collective", "fit", "note");
        var family = reader.String(root, "family", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var matrix = Curve<Flops>(reader, root, "matrix");
        var attention = Curve<Flops>(reader, root, "attention");
        var memory = Curve<Bytes>(reader, root, "memory");
        var collective = Curve<Bytes>(reader, root, "scale_up_collective");
        var fit = ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
        return family is null || provenance is null || matrix is null || attention is null || memory is null || collective is null
            ? null
            : new ChipEfficiency(family, matrix, attention, memory, collective, provenance, fit);
    }

    /// <summary>The block <c>clustertwin calibrate</c> writes: the fitted levels and how they were obtained.</summary>
    private static EfficiencyFit? ReadFit(YamlReader reader, YamlMappingNode? fit)
    {
        if (fit is null)
        {
            return null;
        }

        reader.CheckKeys(fit, "fit", "matrix_scale", "attention_scale", "procedure", "fitted_on", "held_out", "cases", "mean_absolute_error_percent");
        var matrix = reader.Number(fit, "matrix_scale", "fit", 0.01, 10);
        var attention = reader.Number(fit, "attention_scale", "fit", 0.01, 10);
        var procedure = reader.String(fit, "procedure", "fit");
        var cases = reader.Integer(fit, "cases", "fit", 0, 1_000_000);
        var error = reader.Number(fit, "mean_absolute_error_percent", "fit", 0, 1e6);
        return matrix is null || attention is null || procedure is null || cases is null || error is null
            ? null
            : new EfficiencyFit(matrix.Value, attention.Value, procedure, Keys(fit, "fitted_on"), Keys(fit, "held_out"), cases.Value, error.Value);
    }

    private static System.Collections.Immutable.ImmutableArray<string> Keys(YamlMappingNode fit, string key) =>
        YamlReader.Child(fit, key) is YamlSequenceNode list ? [.. list.Select(item => YamlReader.Scalar(item) ?? string.Empty)] : [];

    /// <summary>A curve is a mapping from a size with its unit to an efficiency: <c>{128 GFLOP: 0.95, 1 GFLOP: 0.6}</c>.</summary>
    private static EfficiencyCurve? Curve<T>(YamlReader reader, YamlMappingNode? root, string key)
        where T : struct, IQuantity<T>
    {
        var map = reader.Mapping(root, key, string.Empty, required: true);
        if (map is null)
        {
            return null;
        }

        var points = new List<(double, double)>();
        foreach (var (sizeNode, efficiencyNode) in map.Children)
        {
            var size = reader.Quantity<T>(sizeNode, key);
            var efficiency = FabricReader.Fraction(reader)(efficiencyNode, $"{key}.{YamlReader.Scalar(sizeNode)}");
            if (size is { } known && efficiency is { } fraction)
            {
                points.Add((known.BaseValue, fraction));
            }
        }

        if (points.Count == 0)
        {
            reader.Error(map, key, "expected at least one point, such as {1 GFLOP: 0.6}");
            return null;
        }

        return new EfficiencyCurve(points);
    }
}
