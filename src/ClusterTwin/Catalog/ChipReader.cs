using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a chip file of <c>catalog/chips/</c>.</summary>
internal static class ChipReader
{
    private static readonly Dictionary<string, ChipStatus> Statuses = new() { ["shipping"] = ChipStatus.Shipping, ["announced"] = ChipStatus.Announced };

    public static Chip? Read(YamlReader reader, ISet<string> sources)
    {
        var root = reader.Root;
        reader.CheckKeys(root!, string.Empty, "id", "name", "vendor", "family", "status", "peak_rates", "memory", "on_chip_memory", "scale_up", "scale_out", "power", "note", "scaled_formats");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var vendor = reader.String(root, "vendor", string.Empty);
        var family = reader.String(root, "family", string.Empty);
        var status = reader.Enumeration(root, "status", string.Empty, Statuses);

        var rates = ImmutableSortedDictionary.CreateBuilder<Precision, Figure<FlopRate>>();
        var peakRates = reader.Mapping(root, "peak_rates", string.Empty, required: true);
        if (peakRates is not null)
        {
            reader.CheckKeys(peakRates, "peak_rates", Enum.GetValues<Precision>().Select(p => p.Key()).ToArray());
            foreach (var precision in Enum.GetValues<Precision>())
            {
                var node = YamlReader.Child(peakRates, precision.Key());
                if (node is null || YamlReader.Scalar(node) == "unsupported")
                {
                    continue;
                }

                if (reader.Figure(peakRates, precision.Key(), "peak_rates", reader.QuantityValue<FlopRate>(), sources, required: true) is { } rate)
                {
                    rates[precision] = rate;
                }
            }
        }

        var memory = reader.Mapping(root, "memory", string.Empty, required: true);
        var capacity = reader.Figure(memory, "capacity", "memory", reader.QuantityValue<Bytes>(), sources, required: true);
        var bandwidth = reader.Figure(memory, "bandwidth", "memory", reader.QuantityValue<Bandwidth>(), sources, required: true);
        var onChip = reader.Figure(root, "on_chip_memory", string.Empty, reader.QuantityValue<Bytes>(), sources, required: false);
        var scaleUp = reader.Mapping(root, "scale_up", string.Empty, required: false);
        reader.CheckKeys(scaleUp ?? new YamlMappingNode(), "scale_up", "name", "bandwidth", "note");
        var scaleOut = reader.Mapping(root, "scale_out", string.Empty, required: false);
        reader.CheckKeys(scaleOut ?? new YamlMappingNode(), "scale_out", "name", "bandwidth", "note");
        var power = reader.Mapping(root, "power", string.Empty, required: false);
        reader.CheckKeys(power ?? new YamlMappingNode(), "power", "thermal_design", "note");

        // Every figure is read before deciding, so that one file's problems are all reported together.
        var scaleUpName = reader.String(scaleUp, "name", "scale_up", required: false);
        var scaleUpBandwidth = reader.Figure<LinkBandwidth>(scaleUp, "bandwidth", "scale_up", (_, _) => null, sources, required: false, LinkBandwidthFrom(reader));
        var scaleOutBandwidth = reader.Figure(scaleOut, "bandwidth", "scale_out", reader.QuantityValue<Bandwidth>(), sources, required: false);
        var thermalDesign = reader.Figure(power, "thermal_design", "power", reader.QuantityValue<Power>(), sources, required: false);
        if (peakRates is not null && rates.Count == 0)
        {
            reader.Error(peakRates, "peak_rates", "no usable peak rate (expected at least one of fp32, tf32, bf16, fp8, fp4)");
        }

        var (scaledFormats, scaledSource) = ReadScaledFormats(reader, reader.Mapping(root, "scaled_formats", string.Empty, required: false), sources);
        if (id is null || name is null || vendor is null || family is null || status is null || capacity is null || bandwidth is null || rates.Count == 0)
        {
            return null;
        }

        return new Chip
        {
            Id = id,
            Name = name,
            Vendor = vendor,
            Family = family,
            Status = status.Value,
            PeakRates = rates.ToImmutable(),
            ScaledFormats = scaledFormats,
            ScaledFormatsSource = scaledSource,
            MemoryCapacity = capacity,
            MemoryBandwidth = bandwidth,
            OnChipMemory = onChip,
            ScaleUpName = scaleUpName,
            ScaleUpBandwidth = scaleUpBandwidth,
            ScaleOutBandwidth = scaleOutBandwidth,
            ThermalDesignPower = thermalDesign,
        };
    }

    private static readonly Dictionary<string, LinkDirection> Directions = new()
    {
        ["bidirectional"] = LinkDirection.Bidirectional,
        ["unidirectional"] = LinkDirection.Unidirectional,
        ["unstated"] = LinkDirection.Unstated,
    };

    /// <summary>A link bandwidth reads its value and its <c>direction</c> from the same figure mapping.</summary>
    public static Func<YamlMappingNode, string, LinkBandwidth?> LinkBandwidthFrom(YamlReader reader) => (figure, field) =>
    {
        var value = reader.Quantity<Bandwidth>(figure, "value", field);
        // An alternative value may leave out its direction: it is then as unstated as the vendor left it.
        var isAlternative = field.Contains(".alternatives[", StringComparison.Ordinal);
        var direction = reader.Enumeration(figure, "direction", field, Directions, required: !isAlternative) ?? (isAlternative ? LinkDirection.Unstated : null);
        return value is { } stated && direction is { } way ? new LinkBandwidth(stated, way) : null;
    };

    /// <summary>The <c>scaled_formats</c> block: <c>{formats: [mxfp8, mxfp4, nvfp4], source: S1}</c>.</summary>
    private static (System.Collections.Immutable.ImmutableArray<string> Formats, string? Source) ReadScaledFormats(YamlReader reader, YamlMappingNode? map, ISet<string> sources)
    {
        if (map is null)
        {
            return ([], null);
        }

        reader.CheckKeys(map, "scaled_formats", "formats", "source", "note");
        var source = reader.SourceReference(map, "scaled_formats", sources);

        var formats = new List<string>();
        if (YamlReader.Child(map, "formats") is YamlSequenceNode list)
        {
            foreach (var item in list)
            {
                var key = YamlReader.Scalar(item) ?? string.Empty;
                if (NumberFormat.All.TryGetValue(key, out var format) && format.NeedsHardwareScaling)
                {
                    formats.Add(key);
                }
                else
                {
                    reader.Error(item, "scaled_formats.formats", $"'{key}' is not a hardware-scaled format (expected one of: {string.Join(", ", NumberFormat.All.Values.Where(value => value.NeedsHardwareScaling).Select(value => value.Key))})");
                }
            }
        }
        else
        {
            reader.Error(map, "scaled_formats.formats", "missing (expected a list such as [mxfp8, mxfp4])");
        }

        return ([.. formats], source);
    }
}
