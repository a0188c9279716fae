using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads a scenario's <c>cost</c> and <c>facility</c> blocks and resolves the prices they name, or the catalogue's
/// defaults for the cluster's system: an on-demand rental (else a capacity block, a market figure, a reservation, spot),
/// the reference provider's where it prices the system (<see cref="PriceCatalog.ReferenceProvider"/>), else the most
/// recent, the cheapest of equally recent ones; the most recent purchase price; and the default electricity price.
/// </summary>
public static class ScenarioCost
{
    private static readonly Dictionary<string, CostBasis> Bases = new() { ["rental"] = CostBasis.Rental, ["owner"] = CostBasis.Owner };

    private static readonly PriceOffering[] Preference = [PriceOffering.OnDemand, PriceOffering.CapacityBlock, PriceOffering.Market, PriceOffering.Reserved, PriceOffering.Spot];

    internal static CostSettings Read(YamlReader reader, YamlMappingNode root, string path, Cluster? cluster, PriceCatalog prices)
    {
        var field = YamlReader.Join(path, "cost");
        var map = reader.Mapping(root, "cost", path, required: false);
        reader.CheckKeys(map ?? new YamlMappingNode(), field, "basis", "offering", "price", "electricity", "lifetime_years", "utilization", "whole_instances", "note");
        var facilityField = YamlReader.Join(path, "facility");
        var facility = reader.Mapping(root, "facility", path, required: false);
        reader.CheckKeys(facility ?? new YamlMappingNode(), facilityField, "pue", "note");
        var effectiveness = reader.Number(facility, "pue", facilityField, 1, 3, required: false);
        var basis = reader.Enumeration(map, "basis", field, Bases, required: false);
        var offering = reader.Enumeration(map, "offering", field, PriceReader.Offerings, required: false);
        if (basis is { } chosen)
        {
            // As the requests block does for its arrival kinds: a field the chosen basis does not read is refused, not ignored.
            foreach (var (key, applies, to) in new[]
            {
                ("offering", CostBasis.Rental, "rental"),
                ("whole_instances", CostBasis.Rental, "rental"),
                ("electricity", CostBasis.Owner, "owner"),
                ("lifetime_years", CostBasis.Owner, "owner"),
                ("utilization", CostBasis.Owner, "owner"),
            })
            {
                if (chosen != applies && YamlReader.Child(map, key) is { } unused)
                {
                    reader.Error(unused, YamlReader.Join(field, key), $"does not apply to basis: {(chosen == CostBasis.Owner ? "owner" : "rental")} (only to {to}); remove it");
                }
            }
        }

        var priceId = reader.String(map, "price", field, required: false);
        var electricityId = reader.String(map, "electricity", field, required: false);
        var settings = new CostSettings
        {
            LifetimeYears = reader.Number(map, "lifetime_years", field, 0.5, 30, required: false) ?? 4,
            Utilization = reader.Number(map, "utilization", field, 0.01, 1, required: false) ?? 1,
            WholeInstances = reader.Boolean(map, "whole_instances", field) ?? true,
            PowerUsageEffectiveness = effectiveness,
        };

        if (cluster is null)
        {
            return settings with { Missing = "no cluster" };
        }

        var system = cluster.System.WholeId;
        RentalPrice? rental;
        CapitalPrice? capital;
        if (priceId is not null)
        {
            rental = prices.Rentals.FirstOrDefault(price => price.Id == priceId);
            capital = prices.Capital.FirstOrDefault(price => price.Id == priceId);
            var named = (string?)rental?.System ?? capital?.System;
            if (named is null)
            {
                var known = prices.Rentals.Where(price => price.System == system).Select(price => price.Id)
                    .Concat(prices.Capital.Where(price => price.System == system).Select(price => price.Id)).ToArray();
                reader.Error(YamlReader.Child(map, "price"), YamlReader.Join(field, "price"),
                    $"unknown price '{priceId}' ({(known.Length > 0 ? "the catalogue's prices for " + system + ": " + string.Join(", ", known) : "the catalogue has no price for " + system)})");
            }
            else if (named != system)
            {
                reader.Error(YamlReader.Child(map, "price"), YamlReader.Join(field, "price"), $"'{priceId}' prices {named}, but the cluster is built of {system}");
            }
            else if ((basis == CostBasis.Owner && rental is not null) || (basis == CostBasis.Rental && capital is not null))
            {
                reader.Error(YamlReader.Child(map, "price"), YamlReader.Join(field, "price"), $"'{priceId}' is a {(rental is not null ? "rental" : "purchase")} price, but basis is {(basis == CostBasis.Owner ? "owner" : "rental")}");
            }
        }
        else
        {
            (rental, capital) = Defaults(system, offering, prices);
        }

        var electricity = prices.DefaultElectricity;
        if (electricityId is not null)
        {
            electricity = prices.Electricity.FirstOrDefault(price => price.Id == electricityId);
            if (electricity is null)
            {
                reader.Error(YamlReader.Child(map, "electricity"), YamlReader.Join(field, "electricity"),
                    $"unknown electricity price '{electricityId}' (expected one of: {string.Join(", ", prices.Electricity.Select(price => price.Id))})");
            }
        }

        return Resolved(settings with { Electricity = electricity }, basis, rental, capital, offering, cluster.System.Name);
    }

    /// <summary>
    /// <paramref name="settings"/> moved to <paramref name="system"/>: its default prices (the basis kept where the
    /// settings chose it), for comparing one workload across systems.
    /// </summary>
    public static CostSettings ForSystem(CostSettings settings, AcceleratorSystem system, PriceCatalog prices)
    {
        var (rental, capital) = Defaults(system.WholeId, null, prices);
        return Resolved(settings, settings.Basis == CostBasis.Owner ? CostBasis.Owner : null, rental, capital, null, system.Name);
    }

    private static (RentalPrice? Rental, CapitalPrice? Capital) Defaults(string system, PriceOffering? offering, PriceCatalog prices)
    {
        // The reference provider's first (one provider across systems compared), then the most recent, then the cheapest.
        var reference = prices.ReferenceProvider;
        var rental = (offering is { } wanted ? [wanted] : Preference)
            .Select(choice => prices.Rentals.Where(price => price.System == system && price.Offering == choice)
                .OrderByDescending(price => price.Provider == reference)
                .ThenByDescending(price => price.Date, StringComparer.Ordinal).ThenBy(price => price.PerChip.DollarsPerSecond).FirstOrDefault())
            .FirstOrDefault(price => price is not null);
        var capital = prices.Capital.Where(price => price.System == system).OrderByDescending(price => price.Date, StringComparer.Ordinal).FirstOrDefault();
        return (rental, capital);
    }

    private static CostSettings Resolved(CostSettings settings, CostBasis? basis, RentalPrice? rental, CapitalPrice? capital, PriceOffering? offering, string systemName)
    {
        var resolved = basis ?? (rental is not null ? CostBasis.Rental : capital is not null ? CostBasis.Owner : CostBasis.Rental);
        var offered = offering is { } only ? CostModel.Words(only) + " " : string.Empty;
        var missing = resolved switch
        {
            CostBasis.Rental when rental is null => $"the catalogue has no {offered}rental price for the {systemName} (catalog/prices/; name one with cost.price, or use cost.basis: owner)",
            CostBasis.Owner when capital is null => $"the catalogue has no purchase price for the {systemName} (catalog/prices/capital.yaml)",
            CostBasis.Owner when settings.Electricity is null => "the catalogue has no electricity price (catalog/prices/electricity.yaml)",
            _ => null,
        };
        return settings with { Basis = resolved, Rental = rental, Capital = capital, Missing = missing };
    }

    /// <summary>The overheads of <paramref name="share"/> of a system: its host and switches in proportion.</summary>
    internal static SystemPower PartOf(SystemPower overheads, double share) => overheads with
    {
        Host = Scaled(overheads.Host, share),
        ScaleUpSwitches = Scaled(overheads.ScaleUpSwitches, share),
    };

    private static Figure<Units.Power> Scaled(Figure<Units.Power> figure, double share) =>
        figure.Scaled(power => power * share, $"{share * 100:0.#}% of the whole system's figure, in proportion to the chips used" + (figure.Derivation is { } whole ? $"; the whole: {whole}" : string.Empty));
}
