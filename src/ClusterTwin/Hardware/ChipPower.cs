using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>
/// What a chip draws: a floor while it holds a job, plus energy for each matrix operation, each byte through its
/// high-bandwidth memory and each byte sent on its links, up to its power limit (docs/energy.md).
/// </summary>
public sealed record ChipPower
{
    /// <summary>The power limit (TDP, TGP or board power) the chip cannot exceed; it throttles at it.</summary>
    public required Figure<Power> Limit { get; init; }

    /// <summary>Power while a job holds the chip but no kernel runs: pipeline bubbles, waits on collectives.</summary>
    public required Figure<Power> Idle { get; init; }

    /// <summary>
    /// Energy per dense matrix operation by precision, calibrated on training (it carries the vector and control
    /// activity that comes with matrix work).
    /// </summary>
    public required ImmutableSortedDictionary<Precision, Figure<EnergyPerFlop>> MatrixEnergy { get; init; }

    /// <summary>Energy per byte read or written in high-bandwidth memory, the chip's side of the interface included.</summary>
    public required Figure<EnergyPerByte> MemoryEnergy { get; init; }

    /// <summary>Energy per byte sent on scale-up links, both ends' serializers included.</summary>
    public required Figure<EnergyPerByte> LinkEnergy { get; init; }

    /// <inheritdoc />
    public bool Equals(ChipPower? other) => other is not null && Limit == other.Limit && Idle == other.Idle &&
        MatrixEnergy.SequenceEqual(other.MatrixEnergy) && MemoryEnergy == other.MemoryEnergy && LinkEnergy == other.LinkEnergy;

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Limit, Idle, MemoryEnergy, LinkEnergy);
}
