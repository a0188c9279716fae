using System.Collections.Immutable;

namespace ClusterTwin.Hardware;

/// <summary>The shape of a scale-up domain.</summary>
public enum ScaleUpTopologyKind
{
    /// <summary>A non-blocking all-to-all switch (NVSwitch, NeuronSwitch), possibly in levels.</summary>
    Switched,

    /// <summary>Rings with wrap-around links along each dimension (TPU ICI, Trn2 NeuronLink).</summary>
    Torus,

    /// <summary>A direct link from every chip to every other (AMD Infinity Fabric in an 8-GPU platform).</summary>
    FullMesh,
}

/// <summary>The topology of a scale-up domain.</summary>
/// <param name="Kind">Switched, torus or full mesh.</param>
/// <param name="Shape">Switched: group sizes from the innermost level out. Torus: ring size per dimension. Full mesh: the chip count.</param>
public sealed record ScaleUpTopology(ScaleUpTopologyKind Kind, ImmutableArray<int> Shape)
{
    /// <summary>Chips in the domain.</summary>
    public int Chips => Shape.Aggregate(1, (product, size) => product * size);

    /// <summary>Link directions per chip that carry traffic: two per torus dimension longer than one.</summary>
    public int TorusLinkDirections => Kind == ScaleUpTopologyKind.Torus ? Shape.Count(size => size > 1) * 2 : 0;

    /// <inheritdoc />
    public bool Equals(ScaleUpTopology? other) => other is not null && Kind == other.Kind && Shape.SequenceEqual(other.Shape);

    /// <inheritdoc />
    public override int GetHashCode() => HashCode.Combine(Kind, Chips);
}
