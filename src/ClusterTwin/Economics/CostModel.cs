using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>
/// The cost of a step: a rental price per chip-hour times the chips and the step time, or, for an owner, the purchase
/// spread over the hardware's life and the hours it runs plus the electricity the facility draws (docs/energy.md).
/// </summary>
public static class CostModel
{
    private static readonly Duration Year = Duration.FromSeconds(365.25 * 86400);

    /// <summary>
    /// The cost of a step of <paramref name="stepTime"/> on <paramref name="chips"/> chips, or null with the reason in
    /// <see cref="CostSettings.Missing"/> (or no energy for an owner's electricity).
    /// </summary>
    /// <param name="settings">The resolved prices.</param>
    /// <param name="chips">Chips in the cluster (a share of an instance another pool shares is a fraction of it).</param>
    /// <param name="systems">Systems the chips are spread over, each holding the same share of them.</param>
    /// <param name="stepTime">The step time.</param>
    /// <param name="fastest">The step time's low end.</param>
    /// <param name="slowest">The step time's high end.</param>
    /// <param name="tokens">Tokens per step.</param>
    /// <param name="energy">The step's energy, for an owner's electricity.</param>
    public static StepCost? Of(CostSettings settings, double chips, int systems, Duration stepTime, Duration fastest, Duration slowest, double tokens, StepEnergy? energy)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.Missing is not null || stepTime.Seconds <= 0 || tokens <= 0)
        {
            return null;
        }

        fastest = Duration.Min(fastest, stepTime);
        slowest = Duration.Max(slowest, stepTime);
        if (settings.Basis == CostBasis.Rental && settings.Rental is { } rental)
        {
            // A rental is by the instance: a cluster using part of one pays for the whole instance, unless the settings
            // charge by the chip (the rest of the instance assumed to run other work). An instance never spans systems
            // (none in the catalogue holds more chips than its system), so each system rounds up on its own: 64
            // UltraServers using 128 of their 144 chips rent 64 UltraServers.
            var perSystem = chips / Math.Max(1, systems);
            var rented = settings.WholeInstances ? Math.Max(1, systems) * Math.Ceiling(perSystem / rental.Chips) * rental.Chips : chips;
            var perChip = rental.PerChip;
            return new StepCost
            {
                Basis = CostBasis.Rental,
                Rental = rental,
                PriceStatus = rental.Price.Status,
                PerChipHour = perChip,
                PerStep = perChip * stepTime * rented,
                PerStepLow = rental.Price.Lowest / rental.Chips * fastest * rented,
                PerStepHigh = rental.Price.Highest / rental.Chips * slowest * rented,
                Tokens = tokens,
            };
        }

        if (settings.Basis != CostBasis.Owner || settings.Capital is not { } capital || settings.Electricity is not { } electricity || energy is null)
        {
            return null;
        }

        var hours = Year * settings.LifetimeYears * settings.Utilization;
        var ownership = capital.PerChip / hours;
        var power = electricity.Price.Value * energy.FacilityPerStep;
        var powerLow = electricity.Price.Lowest * (energy.ItPerStepLow * energy.PowerUsageEffectivenessLow);
        var powerHigh = electricity.Price.Highest * (energy.ItPerStepHigh * energy.PowerUsageEffectivenessHigh);
        var status = capital.Price.Status > electricity.Price.Status ? capital.Price.Status : electricity.Price.Status;
        return new StepCost
        {
            Basis = CostBasis.Owner,
            Capital = capital,
            ElectricityPrice = electricity,
            Ownership = (settings.LifetimeYears, settings.Utilization),
            PriceStatus = status,
            PerChipHour = ownership + (power / stepTime / chips),
            PerStep = (ownership * stepTime * chips) + power,
            PerStepLow = (capital.Price.Lowest / capital.Chips / hours * fastest * chips) + powerLow,
            PerStepHigh = (capital.Price.Highest / capital.Chips / hours * slowest * chips) + powerHigh,
            Electricity = power,
            Tokens = tokens,
        };
    }

    /// <summary>How an offering reads in a sentence.</summary>
    public static string Words(PriceOffering offering) => offering switch
    {
        PriceOffering.OnDemand => "on-demand",
        PriceOffering.CapacityBlock => "capacity block",
        PriceOffering.Reserved => "reserved",
        PriceOffering.Spot => "spot",
        _ => "market median",
    };
}
