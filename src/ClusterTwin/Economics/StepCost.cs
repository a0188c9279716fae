using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>What a training step costs, with the range the price's and the step time's uncertainty give.</summary>
public sealed record StepCost
{
    /// <summary>Rented or owned.</summary>
    public required CostBasis Basis { get; init; }

    /// <summary>The rental price used, for a rental.</summary>
    public RentalPrice? Rental { get; init; }

    /// <summary>The purchase price used, for an owner.</summary>
    public CapitalPrice? Capital { get; init; }

    /// <summary>The electricity price used, for an owner.</summary>
    public ElectricityPrice? ElectricityPrice { get; init; }

    /// <summary>The owner's years of use and share of hours running jobs.</summary>
    public (double LifetimeYears, double Utilization) Ownership { get; init; }

    /// <summary>What the price is, in words ("AWS p5.48xlarge, on-demand, us-east-1, 2025-06"); worded when read, as searches cost many layouts.</summary>
    public string Description => Rental is { } rental
        ? $"{rental.Provider} {rental.Item}, {CostModel.Words(rental.Offering)}, {rental.Region}, {rental.Date}"
        : $"owned: {Capital?.Price.Value} for {Capital?.Chips} chips ({Capital?.Date}) over {Ownership.LifetimeYears:0.#} years at {Ownership.Utilization * 100:0.#}% use, electricity {ElectricityPrice?.Price.Value} ({ElectricityPrice?.Region}, {ElectricityPrice?.Date})";

    /// <summary>The catalogue ids of the prices used.</summary>
    public string PriceIds => Rental?.Id ?? $"{Capital?.Id}, {ElectricityPrice?.Id}";

    /// <summary>How far the price can be trusted: official, reported, an estimate or a projection.</summary>
    public required FigureStatus PriceStatus { get; init; }

    /// <summary>One chip for an hour, everything included.</summary>
    public required MoneyRate PerChipHour { get; init; }

    /// <summary>The step's cost.</summary>
    public required Money PerStep { get; init; }

    /// <summary>Low end: the price at its range's low end, the step time at the band's fast end.</summary>
    public required Money PerStepLow { get; init; }

    /// <summary>High end.</summary>
    public required Money PerStepHigh { get; init; }

    /// <summary>Of the owner's cost per step, the electricity; zero for a rental.</summary>
    public Money Electricity { get; init; }

    /// <summary>Tokens per step.</summary>
    public required double Tokens { get; init; }

    /// <summary>Cost per million tokens trained.</summary>
    public Money PerMillionTokens => PerStep * (1e6 / Tokens);

    /// <summary>Low end of the cost per million tokens.</summary>
    public Money PerMillionTokensLow => PerStepLow * (1e6 / Tokens);

    /// <summary>High end of the cost per million tokens.</summary>
    public Money PerMillionTokensHigh => PerStepHigh * (1e6 / Tokens);
}
