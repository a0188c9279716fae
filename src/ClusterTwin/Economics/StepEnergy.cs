using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>
/// The energy of one training step, from the chips up to the facility, with the range the power model's uncertain
/// coefficients and the step time's band give (docs/energy.md).
/// </summary>
public sealed record StepEnergy
{
    /// <summary>The average chip's power over the step, capped at its limit.</summary>
    public required Power AveragePowerPerChip { get; init; }

    /// <summary>The chip's power limit.</summary>
    public required Power PowerLimit { get; init; }

    /// <summary>
    /// Whether the chip would draw more than its limit: it then throttles, and the step takes <see cref="StepTime"/>,
    /// longer than the engine's kernels and collectives take (the step's <c>PowerThrottling</c> part is the difference).
    /// </summary>
    public required bool PowerLimited { get; init; }


    /// <summary>The chips' energy per step, by what spends it.</summary>
    public required EnergyBreakdown Chips { get; init; }

    /// <summary>Hosts (processors, memory, adapters, storage, fans) and scale-up switches, per step.</summary>
    public required Energy Systems { get; init; }

    /// <summary>Scale-out switch ports, per step.</summary>
    public required Energy Network { get; init; }

    /// <summary>Energy drawn by the IT equipment per step: chips, systems and network, with the power supplies' losses.</summary>
    public required Energy ItPerStep { get; init; }

    /// <summary>The facility's power usage effectiveness applied.</summary>
    public required double PowerUsageEffectiveness { get; init; }

    /// <summary>The low end of the facility's power usage effectiveness.</summary>
    public required double PowerUsageEffectivenessLow { get; init; }

    /// <summary>The high end of the facility's power usage effectiveness.</summary>
    public required double PowerUsageEffectivenessHigh { get; init; }

    /// <summary>Energy at the facility's meter per step: IT energy times the power usage effectiveness.</summary>
    public Energy FacilityPerStep => ItPerStep * PowerUsageEffectiveness;

    /// <summary>Low end of the IT energy per step (coefficients at their low ends, the step time at the band's fast end).</summary>
    public required Energy ItPerStepLow { get; init; }

    /// <summary>High end of the IT energy per step.</summary>
    public required Energy ItPerStepHigh { get; init; }

    /// <summary>Tokens per step, for the per-token figures.</summary>
    public required double Tokens { get; init; }

    /// <summary>Model FLOPs per step, for performance per watt.</summary>
    public required Flops ModelWork { get; init; }

    /// <summary>The time the chips are held for the step: the engine's step time, or longer where the chips throttle at their power limit.</summary>
    public required Duration StepTime { get; init; }

    /// <summary>Chips in the cluster.</summary>
    public required long ChipCount { get; init; }

    /// <summary>The cluster's IT power: IT energy per step over the step time.</summary>
    public Power ClusterItPower => ItPerStep / StepTime;

    /// <summary>The cluster's power at the facility's meter.</summary>
    public Power ClusterFacilityPower => FacilityPerStep / StepTime;

    /// <summary>IT energy per token trained.</summary>
    public Energy ItPerToken => ItPerStep / Tokens;

    /// <summary>Facility energy per token trained.</summary>
    public Energy FacilityPerToken => FacilityPerStep / Tokens;

    /// <summary>Low end of the IT energy per token.</summary>
    public Energy ItPerTokenLow => ItPerStepLow / Tokens;

    /// <summary>High end of the IT energy per token.</summary>
    public Energy ItPerTokenHigh => ItPerStepHigh / Tokens;

    /// <summary>Model FLOPs per joule of IT energy (FLOPS per watt).</summary>
    public double ModelFlopsPerJoule => ModelWork.Operations / ItPerStep.Joules;
}

/// <summary>The chips' energy per step, cluster-wide, by what spends it.</summary>
/// <param name="Idle">The floor every chip draws for the whole step.</param>
/// <param name="Matrix">Matrix and the vector work that comes with it.</param>
/// <param name="Memory">High-bandwidth memory traffic.</param>
/// <param name="Links">Bytes sent on links, scale-up or scale-out (the adapters' and switch ports' standing power is counted with the hosts and the network).</param>
public readonly record struct EnergyBreakdown(Energy Idle, Energy Matrix, Energy Memory, Energy Links)
{
    /// <summary>The chips' energy per step.</summary>
    public Energy Total => Idle + Matrix + Memory + Links;
}
