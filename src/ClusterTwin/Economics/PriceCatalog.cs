using System.Collections.Immutable;
using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>How a rental price is offered.</summary>
public enum PriceOffering
{
    /// <summary>Pay as you go, by the hour.</summary>
    OnDemand,

    /// <summary>Reserved for a fixed window ahead (EC2 Capacity Blocks).</summary>
    CapacityBlock,

    /// <summary>Committed for a year or more.</summary>
    Reserved,

    /// <summary>Interruptible spare capacity.</summary>
    Spot,

    /// <summary>A market figure across providers (a median with its spread), not one provider's list price.</summary>
    Market,
}

/// <summary>A price to rent chips of a catalogue system by the hour.</summary>
/// <param name="Id">Unique id, such as <c>aws-p5-48xlarge-on-demand-2025</c>.</param>
/// <param name="System">The catalogue system the price rents.</param>
/// <param name="Offering">How it is offered.</param>
/// <param name="Provider">Who offers it.</param>
/// <param name="Item">The instance or product name.</param>
/// <param name="Chips">How many chips the price rents.</param>
/// <param name="Price">The price per hour of those chips, with its source.</param>
/// <param name="Region">Where, as the source says; "unstated" where it does not.</param>
/// <param name="Date">When the figure was current.</param>
public sealed record RentalPrice(string Id, string System, PriceOffering Offering, string Provider, string Item, int Chips, Figure<MoneyRate> Price, string Region, string Date)
{
    /// <summary>The price of one chip for an hour.</summary>
    public MoneyRate PerChip => Price.Value / Chips;

    /// <summary>The id of the chip the system holds (its slices and racks of one chip count as one chip when providers are compared).</summary>
    public string Chip { get; init; } = string.Empty;
}

/// <summary>A purchase price of a catalogue system, for the owner's view of cost.</summary>
/// <param name="Id">Unique id.</param>
/// <param name="System">The catalogue system bought.</param>
/// <param name="Chips">How many chips the price buys.</param>
/// <param name="Price">The price, with its source.</param>
/// <param name="Date">When the figure was current.</param>
public sealed record CapitalPrice(string Id, string System, int Chips, Figure<Money> Price, string Date)
{
    /// <summary>The price of one chip's share of the system.</summary>
    public Money PerChip => Price.Value / Chips;
}

/// <summary>A price of electricity.</summary>
/// <param name="Id">Unique id.</param>
/// <param name="IsDefault">Whether it applies when a scenario names none.</param>
/// <param name="Region">Where it applies.</param>
/// <param name="Price">The price per unit of energy, with its source.</param>
/// <param name="Date">When the figure was current.</param>
public sealed record ElectricityPrice(string Id, bool IsDefault, string Region, Figure<EnergyPrice> Price, string Date);

/// <summary>The catalogue's prices: rentals, purchases and electricity, each with its source and date.</summary>
public sealed record PriceCatalog
{
    /// <summary>No prices.</summary>
    public static PriceCatalog Empty { get; } = new();

    private readonly ImmutableArray<RentalPrice> rentals = [];

    /// <summary>Rental prices.</summary>
    public ImmutableArray<RentalPrice> Rentals
    {
        get => rentals;
        init => (rentals, ReferenceProvider) = (value, ReferenceOf(value));
    }

    /// <summary>Purchase prices.</summary>
    public ImmutableArray<CapitalPrice> Capital { get; init; } = [];

    /// <summary>Electricity prices.</summary>
    public ImmutableArray<ElectricityPrice> Electricity { get; init; } = [];

    /// <summary>The electricity price that applies when a scenario names none; null in a catalogue without one.</summary>
    public ElectricityPrice? DefaultElectricity => Electricity.FirstOrDefault(price => price.IsDefault);

    /// <summary>
    /// The provider whose published on-demand prices (official or reported: not this catalogue's estimates and
    /// projections) cover the most chips, ties to the first by name: a system's default rental price is this
    /// provider's where it has one, so that systems compared by default are priced by one provider, not each by
    /// whichever happened to quote it cheapest; null without such prices.
    /// </summary>
    public string? ReferenceProvider { get; private init; }

    /// <summary>The provider a price that names none is entered under.</summary>
    public const string UnstatedProvider = "unstated";

    private static string? ReferenceOf(ImmutableArray<RentalPrice> rentals) => rentals
        .Where(price => price.Offering == PriceOffering.OnDemand && price.Price.Status is FigureStatus.Official or FigureStatus.Reported && price.Provider != UnstatedProvider)
        .GroupBy(price => price.Provider, StringComparer.Ordinal)
        .OrderByDescending(group => group.Select(price => price.Chip).Distinct(StringComparer.Ordinal).Count())
        .ThenBy(group => group.Key, StringComparer.Ordinal)
        .Select(group => group.Key)
        .FirstOrDefault();

    /// <inheritdoc />
    public bool Equals(PriceCatalog? other) => other is not null && Rentals.SequenceEqual(other.Rentals) && Capital.SequenceEqual(other.Capital) && Electricity.SequenceEqual(other.Electricity);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Rentals.Length, Capital.Length, Electricity.Length);
}
