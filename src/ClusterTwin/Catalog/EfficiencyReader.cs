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
        reader.CheckKeys(root!, string.Empty, "family", "provenance", "matrix", "attention", "memory", "scale_up_collective", "note");
        var family = reader.String(root, "family", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var matrix = Curve<Flops>(reader, root, "matrix");
        var attention = Curve<Flops>(reader, root, "attention");
        var memory = Curve<Bytes>(reader, root, "memory");
        var collective = Curve<Bytes>(reader, root, "scale_up_collective");
        return family is null || provenance is null || matrix is null || attention is null || memory is null || collective is null
            ? null
            : new ChipEfficiency(family, matrix, attention, memory, collective, provenance);
    }

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
