using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>Whether a chip ships or has only been announced.</summary>
public enum ChipStatus
{
    /// <summary>Available.</summary>
    Shipping,

    /// <summary>Announced; its figures are projections.</summary>
    Announced,
}

/// <summary>An accelerator chip (or one GPU of a superchip), as the catalogue describes it.</summary>
public sealed record Chip
{
    /// <summary>Catalogue id, such as <c>aws-trainium3</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>Maker.</summary>
    public required string Vendor { get; init; }

    /// <summary>Calibration class: chips of one family share efficiency curves.</summary>
    public required string Family { get; init; }

    /// <summary>Shipping or announced.</summary>
    public required ChipStatus Status { get; init; }

    /// <summary>Dense peak matrix rates by precision; a precision absent here is not supported or not published.</summary>
    public required ImmutableSortedDictionary<Precision, Figure<FlopRate>> PeakRates { get; init; }

    /// <summary>High-bandwidth memory capacity.</summary>
    public required Figure<Bytes> MemoryCapacity { get; init; }

    /// <summary>High-bandwidth memory bandwidth.</summary>
    public required Figure<Bandwidth> MemoryBandwidth { get; init; }

    /// <summary>The largest documented on-chip SRAM pool (SBUF, L2, Infinity Cache).</summary>
    public Figure<Bytes>? OnChipMemory { get; init; }

    /// <summary>
    /// The ranks a framework runs on one chip: one per device its runtime exposes. A Neuron chip exposes each (logical)
    /// NeuronCore, and its frameworks count tensor parallelism in them; null for one rank per chip.
    /// </summary>
    public Figure<int>? RanksPerChip { get; init; }

    /// <summary>The ranks one chip runs: <see cref="RanksPerChip"/>, or 1.</summary>
    public int Ranks => RanksPerChip?.Value ?? 1;

    /// <summary>Name of the scale-up link technology.</summary>
    public string? ScaleUpName { get; init; }

    /// <summary>Total scale-up bandwidth per chip.</summary>
    public Figure<LinkBandwidth>? ScaleUpBandwidth { get; init; }

    /// <summary>Scale-out network bandwidth per chip.</summary>
    public Figure<Bandwidth>? ScaleOutBandwidth { get; init; }

    /// <summary>Thermal design power.</summary>
    public Figure<Power>? ThermalDesignPower { get; init; }

    /// <summary>The power model's coefficients; null where the catalogue has none for this chip.</summary>
    public ChipPower? Power { get; init; }

    /// <summary>The hardware-scaled formats the tensor cores run (<c>mxfp8</c>, <c>mxfp4</c>, <c>nvfp4</c>), with their source.</summary>
    public ImmutableArray<string> ScaledFormats { get; init; } = [];

    /// <summary>The source of <see cref="ScaledFormats"/>.</summary>
    public string? ScaledFormatsSource { get; init; }

    /// <summary>Whether the chip can train in <paramref name="format"/>: it has the rate, and the scaling where the hardware must do it.</summary>
    public bool Supports(NumberFormat format)
    {
        ArgumentNullException.ThrowIfNull(format);
        return PeakRate(format.Precision) is not null && (!format.NeedsHardwareScaling || ScaledFormats.Contains(format.Key));
    }

    /// <summary>The peak rate for a precision, if the chip supports it and it is published.</summary>
    public FlopRate? PeakRate(Precision precision) => PeakRates.TryGetValue(precision, out var figure) ? figure.Value : null;

    /// <inheritdoc />
    public bool Equals(Chip? other) => other is not null && Id == other.Id && Name == other.Name && Vendor == other.Vendor &&
        Family == other.Family && Status == other.Status && PeakRates.SequenceEqual(other.PeakRates) &&
        MemoryCapacity == other.MemoryCapacity && MemoryBandwidth == other.MemoryBandwidth && OnChipMemory == other.OnChipMemory && RanksPerChip == other.RanksPerChip &&
        ScaleUpName == other.ScaleUpName && ScaleUpBandwidth == other.ScaleUpBandwidth && ScaleOutBandwidth == other.ScaleOutBandwidth &&
        ThermalDesignPower == other.ThermalDesignPower && Power == other.Power && ScaledFormats.SequenceEqual(other.ScaledFormats);

    /// <inheritdoc />
    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}
