using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>How a vendor stated a link bandwidth.</summary>
public enum LinkDirection
{
    /// <summary>The sum of both directions (NVIDIA's NVLink figures, Google's ICI).</summary>
    Bidirectional,

    /// <summary>One direction.</summary>
    Unidirectional,

    /// <summary>The vendor does not say (AWS NeuronLink, AMD Infinity Fabric).</summary>
    Unstated,
}

/// <summary>A chip's total link bandwidth as the vendor stated it, and the rate it can send in one direction.</summary>
/// <param name="Stated">The vendor's figure.</param>
/// <param name="Direction">How it was stated.</param>
public readonly record struct LinkBandwidth(Bandwidth Stated, LinkDirection Direction)
{
    /// <summary>
    /// The bandwidth one chip can send (and, at the same time, receive). An unstated direction is read as
    /// bidirectional, the reading an analyst gives AWS's figures (hardware.md, S21); the alternative reading is
    /// part of the uncertainty band.
    /// </summary>
    public Bandwidth PerDirection => Direction == LinkDirection.Unidirectional ? Stated : Stated / 2;

    /// <summary>Prints the figure with how it was stated ("900 GB/s (bidirectional)").</summary>
    public override string ToString() => $"{Stated} ({Direction.ToString().ToLowerInvariant()})";
}
