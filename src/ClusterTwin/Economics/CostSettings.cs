namespace ClusterTwin.Economics;

/// <summary>Whether a run is paid for by the hour or owned.</summary>
public enum CostBasis
{
    /// <summary>Rented by the hour at a catalogue price (the price includes power and facility).</summary>
    Rental,

    /// <summary>Bought: the purchase spread over the hardware's life, plus the electricity the facility draws.</summary>
    Owner,
}

/// <summary>How a scenario's cost and facility energy are worked out, with the prices resolved from the catalogue.</summary>
public sealed record CostSettings
{
    /// <summary>Rented or owned.</summary>
    public CostBasis Basis { get; init; } = CostBasis.Rental;

    /// <summary>The rental price, for <see cref="CostBasis.Rental"/>.</summary>
    public RentalPrice? Rental { get; init; }

    /// <summary>The purchase price, for <see cref="CostBasis.Owner"/>.</summary>
    public CapitalPrice? Capital { get; init; }

    /// <summary>The electricity price, for <see cref="CostBasis.Owner"/>.</summary>
    public ElectricityPrice? Electricity { get; init; }

    /// <summary>Years the owner spreads the purchase over (four, a common depreciation life for accelerators).</summary>
    public double LifetimeYears { get; init; } = 4;

    /// <summary>The share of owned hours that run jobs; idle hours are paid for by the hours that run.</summary>
    public double Utilization { get; init; } = 1;

    /// <summary>Whether a rental of part of an instance pays for the whole instance (true), or for the chips used, the rest assumed to run other work.</summary>
    public bool WholeInstances { get; init; } = true;

    /// <summary>The facility's power usage effectiveness, overriding the system's typical one.</summary>
    public double? PowerUsageEffectiveness { get; init; }

    /// <summary>Why no cost can be worked out (no price in the catalogue for the system); null when one can.</summary>
    public string? Missing { get; init; }
}
