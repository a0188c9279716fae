using System.Collections.Immutable;
using System.Globalization;
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
        reader.CheckKeys(root!, string.Empty, "id", "name", "vendor", "family", "status", "peak_rates", "memory", "on_chip_memory", "ranks_per_chip", "scale_up", "scale_out", "power", "note", "scaled_formats");
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
        var ranks = reader.Figure(root, "ranks_per_chip", string.Empty, reader.CountValue(1, 64), sources, required: false);
        var scaleUp = reader.Mapping(root, "scale_up", string.Empty, required: false);
        reader.CheckKeys(scaleUp ?? new YamlMappingNode(), "scale_up", "name", "bandwidth", "note");
        var scaleOut = reader.Mapping(root, "scale_out", string.Empty, required: false);
        reader.CheckKeys(scaleOut ?? new YamlMappingNode(), "scale_out", "name", "bandwidth", "note");
        var power = reader.Mapping(root, "power", string.Empty, required: false);
        reader.CheckKeys(power ?? new YamlMappingNode(), "power", "thermal_design", "idle", "matrix_energy", "memory_energy", "link_energy", "note");

        // Every figure is read before deciding, so that one file's problems are all reported together.
        var scaleUpName = reader.String(scaleUp, "name", "scale_up", required: false);
        var scaleUpBandwidth = reader.Figure<LinkBandwidth>(scaleUp, "bandwidth", "scale_up", (_, _) => null, sources, required: false, LinkBandwidthFrom(reader));
        var scaleOutBandwidth = reader.Figure(scaleOut, "bandwidth", "scale_out", reader.QuantityValue<Bandwidth>(), sources, required: false);
        var thermalDesign = reader.Figure(power, "thermal_design", "power", reader.QuantityValue<Power>(), sources, required: false);
        var chipPower = ReadPowerModel(reader, power, thermalDesign, rates.Keys, sources);
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
            RanksPerChip = ranks,
            ScaleUpName = scaleUpName,
            ScaleUpBandwidth = scaleUpBandwidth,
            ScaleOutBandwidth = scaleOutBandwidth,
            ThermalDesignPower = thermalDesign,
            Power = chipPower,
        };
    }

    /// <summary>
    /// The power model's coefficients beside <c>thermal_design</c>: all four or none, and matrix energies only for
    /// precisions the chip has a peak rate for.
    /// </summary>
    private static ChipPower? ReadPowerModel(YamlReader reader, YamlMappingNode? power, Figure<Power>? limit, IEnumerable<Precision> precisions, ISet<string> sources)
    {
        string[] keys = ["idle", "matrix_energy", "memory_energy", "link_energy"];
        if (power is null || !keys.Any(key => YamlReader.Child(power, key) is not null))
        {
            return null;
        }

        // One coefficient given makes all four required.
        var idle = reader.Figure(power, "idle", "power", reader.QuantityValue<Power>(), sources, required: true);
        var memory = reader.Figure(power, "memory_energy", "power", reader.QuantityValue<EnergyPerByte>(), sources, required: true);
        var link = reader.Figure(power, "link_energy", "power", reader.QuantityValue<EnergyPerByte>(), sources, required: true);
        var matrix = ImmutableSortedDictionary.CreateBuilder<Precision, Figure<EnergyPerFlop>>();
        var energies = reader.Mapping(power, "matrix_energy", "power", required: true);
        if (energies is not null)
        {
            // Every precision's key is accepted; only those the chip has a peak rate for are read (a rate that failed
            // to read is reported once, at the rate).
            reader.CheckKeys(energies, "power.matrix_energy", Enum.GetValues<Precision>().Select(precision => precision.Key()).ToArray());
            foreach (var precision in precisions)
            {
                if (reader.Figure(energies, precision.Key(), "power.matrix_energy", reader.QuantityValue<EnergyPerFlop>(), sources, required: false) is { } energy)
                {
                    matrix[precision] = energy;
                }
            }

            if (matrix.Count == 0)
            {
                reader.Error(energies, "power.matrix_energy", "no energy per FLOP (expected one per precision of peak_rates, such as bf16: {value: 1.07 pJ/FLOP, ...})");
            }
        }

        if (limit is not null && idle is not null && (idle.Range?.High ?? idle.Value) >= limit.Value)
        {
            var highest = idle.Range?.High ?? idle.Value;
            reader.Error(YamlReader.Child(power, "idle"), "power.idle", string.Create(CultureInfo.InvariantCulture,
                $"{(idle.Range is null ? $"{highest.Watts:0.#} W" : $"the top of its range, {highest.Watts:0.#} W,")} is not below the thermal design power, {limit.Value.Watts:0.#} W (expected the draw with nothing running, below the chip's limit)"));
        }

        // A limit given but refused has been reported as it is.
        if (limit is null && YamlReader.Child(power, "thermal_design") is null)
        {
            reader.Error(power, "power.thermal_design", "missing: the power model caps the chip at its power limit");
        }

        return limit is null || idle is null || memory is null || link is null || matrix.Count == 0
            ? null
            : new ChipPower { Limit = limit, Idle = idle, MatrixEnergy = matrix.ToImmutable(), MemoryEnergy = memory, LinkEnergy = link };
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
        var value = reader.Quantity<Bandwidth>(figure, "value", field, range: PlausibleRange.Bandwidth);
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
