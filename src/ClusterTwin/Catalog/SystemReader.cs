using System.Globalization;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a system file of <c>catalog/systems/</c>.</summary>
internal static class SystemReader
{
    private static readonly Dictionary<string, ScaleUpTopologyKind> Topologies = new()
    {
        ["switched"] = ScaleUpTopologyKind.Switched,
        ["torus"] = ScaleUpTopologyKind.Torus,
        ["full-mesh"] = ScaleUpTopologyKind.FullMesh,
    };

    public static AcceleratorSystem? Read(YamlReader reader, ISet<string> sources, IReadOnlyDictionary<string, Chip> chips, ISet<string> chipFiles)
    {
        var root = reader.Root;
        reader.CheckKeys(root!, string.Empty, "id", "name", "vendor", "chip", "chips", "scale_up", "scale_out", "host_link", "host_memory", "power", "note");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var vendor = reader.String(root, "vendor", string.Empty);
        var chipId = reader.String(root, "chip", string.Empty);
        Chip? chip = null;
        if (chipId is not null && !chips.TryGetValue(chipId, out chip))
        {
            reader.Error(YamlReader.Child(root, "chip"), "chip", chipFiles.Contains(chipId)
                ? $"chip '{chipId}' could not be loaded (see the problems in its own file)"
                : $"unknown chip '{chipId}' (expected an id from catalog/chips/)");
        }

        var count = reader.Figure(root, "chips", string.Empty, reader.CountValue(1, 1_000_000), sources, required: true);
        var scaleUp = reader.Mapping(root, "scale_up", string.Empty, required: true);
        var topology = ReadTopology(reader, scaleUp, count?.Value);
        var bandwidth = reader.Figure<LinkBandwidth>(scaleUp, "bandwidth", "scale_up", (_, _) => null, sources, required: true, ChipReader.LinkBandwidthFrom(reader));
        var latency = reader.Figure(scaleUp, "latency", "scale_up", reader.QuantityValue<Duration>(), sources, required: true);
        var scaleOut = reader.Mapping(root, "scale_out", string.Empty, required: false);
        reader.CheckKeys(scaleOut ?? new YamlMappingNode(), "scale_out", "name", "bandwidth", "note");
        var scaleOutBandwidth = reader.Figure(scaleOut, "bandwidth", "scale_out", reader.QuantityValue<Bandwidth>(), sources, required: scaleOut is not null);
        var hostLink = reader.Figure(root, "host_link", string.Empty, reader.QuantityValue<Bandwidth>(), sources, required: false);
        var hostMemory = reader.Mapping(root, "host_memory", string.Empty, required: false);
        reader.CheckKeys(hostMemory ?? new YamlMappingNode(), "host_memory", "capacity", "bandwidth", "note");
        var hostCapacity = reader.Figure(hostMemory, "capacity", "host_memory", reader.QuantityValue<Bytes>(), sources, required: hostMemory is not null);
        var hostBandwidth = reader.Figure(hostMemory, "bandwidth", "host_memory", reader.QuantityValue<Bandwidth>(), sources, required: hostMemory is not null);
        var power = reader.Mapping(root, "power", string.Empty, required: false);
        reader.CheckKeys(power ?? new YamlMappingNode(), "power", "system_maximum", "host", "host_idle", "scale_up_switches", "conversion_efficiency", "pue", "note");
        var systemPower = reader.Figure(power, "system_maximum", "power", reader.QuantityValue<Power>(), sources, required: false);
        var overheads = ReadOverheads(reader, power, sources);
        if (systemPower is not null && overheads is not null && systemPower.Value <= overheads.Host.Value)
        {
            reader.Error(YamlReader.Child(power, "system_maximum"), "power.system_maximum", string.Create(CultureInfo.InvariantCulture,
                $"{systemPower.Value.Watts:0.#} W is not above the host's own {overheads.Host.Value.Watts:0.#} W (power.host): the system's maximum holds the host and its chips"));
        }

        if (id is null || name is null || vendor is null || chip is null || count is null || topology is null || bandwidth is null || latency is null)
        {
            return null;
        }

        return new AcceleratorSystem
        {
            Id = id,
            Name = name,
            Vendor = vendor,
            Chip = chip,
            Chips = count,
            ScaleUpName = reader.String(scaleUp, "name", "scale_up", required: false) ?? chip.ScaleUpName ?? "scale-up links",
            Topology = topology,
            ScaleUpBandwidth = bandwidth,
            ScaleUpLatency = latency,
            SharesDomainWith = SharedDomains(reader, scaleUp),
            ScaleOutName = reader.String(scaleOut, "name", "scale_out", required: false),
            ScaleOutBandwidth = scaleOutBandwidth,
            HostLink = hostLink,
            HostMemory = hostCapacity,
            HostMemoryBandwidth = hostBandwidth,
            SystemPower = systemPower,
            Overheads = overheads,
        };
    }

    /// <summary><c>scale_up.shares_domain_with</c>: a list of system ids (checked against the catalogue once every system is read).</summary>
    private static System.Collections.Immutable.ImmutableArray<string> SharedDomains(YamlReader reader, YamlMappingNode? scaleUp)
    {
        switch (YamlReader.Child(scaleUp, "shares_domain_with"))
        {
            case null:
                return [];
            case YamlSequenceNode shared:
                return [.. shared.Children.Select(item => YamlReader.Scalar(item) ?? string.Empty)];
            case var other:
                reader.Error(other, "scale_up.shares_domain_with", "expected a list of system ids, such as [nvidia-vera-rubin-nvl72]");
                return [];
        }
    }

    /// <summary>The system's power besides its chips: host, switches, conversion and facility, all four or none.</summary>
    private static SystemPower? ReadOverheads(YamlReader reader, YamlMappingNode? power, ISet<string> sources)
    {
        string[] keys = ["host", "scale_up_switches", "conversion_efficiency", "pue"];
        if (power is null || !keys.Any(key => YamlReader.Child(power, key) is not null))
        {
            return null;
        }

        var host = reader.Figure(power, "host", "power", reader.QuantityValue<Power>(), sources, required: true);
        // Checked like every figure, though no model uses it yet: the power of capacity that holds no job.
        _ = reader.Figure(power, "host_idle", "power", reader.QuantityValue<Power>(), sources, required: false);
        var switches = reader.Figure(power, "scale_up_switches", "power", reader.QuantityOrZeroValue<Power>(), sources, required: true);
        var conversion = reader.Figure(power, "conversion_efficiency", "power", reader.FractionValue(), sources, required: true);
        var effectiveness = reader.Figure(power, "pue", "power", reader.RatioValue(3), sources, required: true);
        return host is null || switches is null || conversion is null || effectiveness is null
            ? null
            : new SystemPower { Host = host, ScaleUpSwitches = switches, ConversionEfficiency = conversion, PowerUsageEffectiveness = effectiveness };
    }

    private static ScaleUpTopology? ReadTopology(YamlReader reader, YamlMappingNode? scaleUp, int? chips)
    {
        if (scaleUp is null)
        {
            return null;
        }

        reader.CheckKeys(scaleUp, "scale_up", "name", "topology", "levels", "dimensions", "bandwidth", "latency", "shares_domain_with", "note");
        var kind = reader.Enumeration(scaleUp, "topology", "scale_up", Topologies);
        if (kind is null)
        {
            return null;
        }

        var shapeKey = kind == ScaleUpTopologyKind.Torus ? "dimensions" : "levels";
        var shapeNode = YamlReader.Child(scaleUp, shapeKey);
        int[] shape;
        if (kind == ScaleUpTopologyKind.FullMesh && shapeNode is null)
        {
            shape = [chips ?? 1];
        }
        else if (shapeNode is YamlSequenceNode sequence)
        {
            shape = sequence.Select(item => YamlReader.TryParseCount(YamlReader.Scalar(item) ?? string.Empty, out var value) && value >= 1 && value <= 1_000_000 && value == Math.Floor(value) ? (int)value : 0).ToArray();
            if (shape.Length == 0 || shape.Any(size => size < 1))
            {
                reader.Error(shapeNode, $"scale_up.{shapeKey}", "expected a list of positive whole numbers, such as [4, 4, 4]");
                return null;
            }
        }
        else
        {
            reader.Error(shapeNode ?? scaleUp, $"scale_up.{shapeKey}", $"missing (a {kind.Value.ToString().ToLowerInvariant()} domain needs its {shapeKey}, a list such as [4, 4, 4])");
            return null;
        }

        var topology = new ScaleUpTopology(kind.Value, [.. shape]);
        if (chips is { } count && topology.Chips != count)
        {
            reader.Error(shapeNode, $"scale_up.{shapeKey}", $"the {shapeKey} [{string.Join(", ", shape)}] hold {topology.Chips} chips, but the system has {count}");
            return null;
        }

        return topology;
    }
}
