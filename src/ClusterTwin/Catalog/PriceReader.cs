using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads the price files of <c>catalog/prices/</c>: lists under <c>prices</c>, <c>capital</c> and <c>electricity</c>.</summary>
internal static class PriceReader
{
    internal static readonly Dictionary<string, PriceOffering> Offerings = new()
    {
        ["on-demand"] = PriceOffering.OnDemand,
        ["capacity-block"] = PriceOffering.CapacityBlock,
        ["reserved"] = PriceOffering.Reserved,
        ["spot"] = PriceOffering.Spot,
        ["market"] = PriceOffering.Market,
    };

    /// <summary>Adds the prices of one file to <paramref name="prices"/>, checking the systems they name.</summary>
    public static PriceCatalog Read(YamlReader reader, ISet<string> sources, IReadOnlyDictionary<string, AcceleratorSystem> systems, ISet<string> systemFiles, PriceCatalog prices)
    {
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "prices", "capital", "electricity", "note");
        var rentals = Entries(reader, root, "prices", entry => Rental(reader, entry, sources, systems, systemFiles));
        var capital = Entries(reader, root, "capital", entry => Capital(reader, entry, sources, systems, systemFiles));
        var electricity = Entries(reader, root, "electricity", entry => Electricity(reader, entry, sources));
        return prices with
        {
            Rentals = prices.Rentals.AddRange(rentals),
            Capital = prices.Capital.AddRange(capital),
            Electricity = prices.Electricity.AddRange(electricity),
        };
    }

    /// <summary>What only all the price files together can show: an id used twice, more than one default electricity price.</summary>
    public static IEnumerable<Diagnostic> Problems(PriceCatalog prices, string folder)
    {
        var ids = prices.Rentals.Select(price => price.Id).Concat(prices.Capital.Select(price => price.Id)).Concat(prices.Electricity.Select(price => price.Id));
        foreach (var duplicate in ids.GroupBy(id => id, StringComparer.Ordinal).Where(group => group.Count() > 1))
        {
            yield return new Diagnostic(folder, 0, duplicate.Key, "price id defined twice (each id must be unique across catalog/prices/)");
        }

        if (prices.Electricity.Count(price => price.IsDefault) > 1)
        {
            yield return new Diagnostic(folder, 0, "electricity", "more than one entry has default: true (exactly one electricity price is the default)");
        }
    }

    private static ImmutableArray<T> Entries<T>(YamlReader reader, YamlMappingNode root, string key, Func<YamlMappingNode, T?> read)
        where T : class
    {
        var node = YamlReader.Child(root, key);
        if (node is null)
        {
            return [];
        }

        if (node is not YamlSequenceNode list)
        {
            reader.Error(node, key, "expected a list of entries");
            return [];
        }

        var entries = ImmutableArray.CreateBuilder<T>();
        foreach (var item in list)
        {
            if (item is YamlMappingNode entry && read(entry) is { } value)
            {
                entries.Add(value);
            }
            else if (item is not YamlMappingNode)
            {
                reader.Error(item, key, "expected an entry {id: ..., price: {value: ..., source: ...}, ...}");
            }
        }

        return entries.ToImmutable();
    }

    private static RentalPrice? Rental(YamlReader reader, YamlMappingNode entry, ISet<string> sources, IReadOnlyDictionary<string, AcceleratorSystem> systems, ISet<string> systemFiles)
    {
        var id = reader.String(entry, "id", "prices[]");
        var field = $"prices[{id}]";
        reader.CheckKeys(entry, field, "id", "system", "offering", "provider", "item", "chips", "price", "region", "date", "note");
        var system = SystemId(reader, entry, field, systems, systemFiles);
        var offering = reader.Enumeration(entry, "offering", field, Offerings);
        var provider = reader.String(entry, "provider", field);
        var item = reader.String(entry, "item", field);
        var chips = reader.Integer(entry, "chips", field, 1, 1_000_000);
        if (system is not null && chips is { } instance && systems[system].Chips.Value is var whole && (instance > whole || whole % instance != 0))
        {
            // The cost model rents each system its own whole instances (CostModel): an instance must divide its system.
            reader.Error(YamlReader.Child(entry, "chips"), YamlReader.Join(field, "chips"),
                $"an instance of {instance} chips does not divide one {systems[system].Name} of {whole} chips (expected a divisor of {whole}: a price per chip, per server or per system)");
        }

        var price = reader.Figure(entry, "price", field, reader.QuantityValue<MoneyRate>(), sources, required: true);
        var region = reader.String(entry, "region", field);
        var date = reader.String(entry, "date", field);
        return id is null || system is null || offering is null || provider is null || item is null || chips is null || price is null || region is null || date is null
            ? null
            : new RentalPrice(id, system, offering.Value, provider, item, chips.Value, price, region, date) { Chip = systems[system].Chip.Id };
    }

    private static CapitalPrice? Capital(YamlReader reader, YamlMappingNode entry, ISet<string> sources, IReadOnlyDictionary<string, AcceleratorSystem> systems, ISet<string> systemFiles)
    {
        var id = reader.String(entry, "id", "capital[]");
        var field = $"capital[{id}]";
        reader.CheckKeys(entry, field, "id", "system", "item", "chips", "price", "date", "note");
        var system = SystemId(reader, entry, field, systems, systemFiles);
        var chips = reader.Integer(entry, "chips", field, 1, 1_000_000);
        var price = reader.Figure(entry, "price", field, reader.QuantityValue<Money>(), sources, required: true);
        var date = reader.String(entry, "date", field);
        return id is null || system is null || chips is null || price is null || date is null ? null : new CapitalPrice(id, system, chips.Value, price, date);
    }

    private static ElectricityPrice? Electricity(YamlReader reader, YamlMappingNode entry, ISet<string> sources)
    {
        var id = reader.String(entry, "id", "electricity[]");
        var field = $"electricity[{id}]";
        reader.CheckKeys(entry, field, "id", "default", "region", "price", "date", "note");
        var isDefault = reader.Boolean(entry, "default", field) ?? false;
        var region = reader.String(entry, "region", field);
        var price = reader.Figure(entry, "price", field, reader.QuantityValue<EnergyPrice>(), sources, required: true);
        var date = reader.String(entry, "date", field);
        return id is null || region is null || price is null || date is null ? null : new ElectricityPrice(id, isDefault, region, price, date);
    }

    // A system whose file failed to load has said why already: its prices are left out without a word more.
    private static string? SystemId(YamlReader reader, YamlMappingNode entry, string field, IReadOnlyDictionary<string, AcceleratorSystem> systems, ISet<string> systemFiles)
    {
        var system = reader.String(entry, "system", field);
        if (system is not null && !systems.ContainsKey(system) && systemFiles.Contains(system))
        {
            return null;
        }

        if (system is not null && !systems.ContainsKey(system))
        {
            reader.Error(YamlReader.Child(entry, "system"), $"{field}.system", $"unknown system '{system}' (expected one of catalog/systems/: {string.Join(", ", systems.Keys.Take(6))}, ...)");
            return null;
        }

        return system;
    }
}
