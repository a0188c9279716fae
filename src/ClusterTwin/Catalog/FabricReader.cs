using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a fabric file of <c>catalog/fabrics/</c>.</summary>
internal static class FabricReader
{
    public static Fabric? Read(YamlReader reader, ISet<string> sources)
    {
        var root = reader.Root;
        reader.CheckKeys(root!, string.Empty, "id", "name", "technology", "tiers", "efficiency", "power", "note");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var technology = reader.String(root, "technology", string.Empty);
        var efficiency = reader.Figure(root, "efficiency", string.Empty, reader.FractionValue(), sources, required: true);
        var power = reader.Mapping(root, "power", string.Empty, required: false);
        reader.CheckKeys(power ?? new YamlMappingNode(), "power", "per_port", "note");
        var portPower = reader.Figure(power, "per_port", "power", reader.QuantityValue<Power>(), sources, required: power is not null);
        var tiers = new List<FabricTier>();
        if (YamlReader.Child(root, "tiers") is YamlSequenceNode list && list.Children.Count > 0)
        {
            var index = 0;
            foreach (var item in list)
            {
                var path = $"tiers[{index++}]";
                if (item is not YamlMappingNode tier)
                {
                    reader.Error(item, path, "expected {name, radix, oversubscription, latency}");
                    continue;
                }

                reader.CheckKeys(tier, path, "name", "radix", "oversubscription", "latency", "note");
                var tierName = reader.String(tier, "name", path);
                var radix = reader.Figure(tier, "radix", path, reader.CountValue(2, 4096), sources, required: true);
                var oversubscription = reader.Number(tier, "oversubscription", path, 1, 64);
                var latency = reader.Figure(tier, "latency", path, reader.QuantityValue<Duration>(), sources, required: true);
                if (tierName is not null && radix is not null && oversubscription is not null && latency is not null)
                {
                    tiers.Add(new FabricTier(tierName, radix, oversubscription.Value, latency));
                }
            }
        }
        else
        {
            var given = YamlReader.Child(root, "tiers");
            reader.Error(given ?? root, "tiers", $"{(given is YamlSequenceNode ? "empty" : given is null ? "missing" : "not a list")} (expected a list of switch tiers from the leaf up)");
        }

        if (id is null || name is null || technology is null || efficiency is null || tiers.Count == 0)
        {
            return null;
        }

        return new Fabric { Id = id, Name = name, Technology = technology, Tiers = [.. tiers], Efficiency = efficiency, PortPower = portPower };
    }
}
