using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>One tier of switches in a folded Clos network.</summary>
/// <param name="Name">Leaf, spine, core...</param>
/// <param name="Radix">Ports per switch.</param>
/// <param name="Oversubscription">Downlink to uplink bandwidth ratio above this tier; 1 is non-blocking.</param>
/// <param name="Latency">Latency added by crossing this tier (one switch hop plus cabling).</param>
public sealed record FabricTier(string Name, Figure<int> Radix, double Oversubscription, Figure<Duration> Latency);

/// <summary>A scale-out network that joins systems: a multi-tier folded Clos (EFA, InfiniBand, Ethernet).</summary>
public sealed record Fabric
{
    /// <summary>Catalogue id.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>EFA, InfiniBand NDR, RoCE...</summary>
    public required string Technology { get; init; }

    /// <summary>Switch tiers from the leaf up.</summary>
    public required ImmutableArray<FabricTier> Tiers { get; init; }

    /// <summary>Achieved fraction of the NIC bandwidth on large collectives.</summary>
    public required Figure<double> Efficiency { get; init; }

    /// <summary>Power of one switch port at the fabric's port speed, its optics and its share of the switch included; null where unknown.</summary>
    public Figure<Power>? PortPower { get; init; }

    /// <summary>
    /// Endpoints under one switch group of each tier: a tier below the top sends half its ports up,
    /// so tier <c>i</c> reaches <c>(r/2)^(i+1)</c> endpoints and the top tier twice that.
    /// </summary>
    public long EndpointsUnderTier(int tier)
    {
        double endpoints = 1;
        for (var index = 0; index <= tier; index++)
        {
            var radix = Tiers[index].Radix.Value;
            endpoints *= index == Tiers.Length - 1 ? radix : radix / 2.0;
        }

        return (long)Math.Min(endpoints, long.MaxValue / 2);
    }

    /// <summary>The most endpoints the fabric can reach.</summary>
    public long MaximumEndpoints => EndpointsUnderTier(Tiers.Length - 1);

    /// <inheritdoc />
    public bool Equals(Fabric? other) => other is not null && Id == other.Id && Tiers.SequenceEqual(other.Tiers) && Efficiency == other.Efficiency && PortPower == other.PortPower;

    /// <inheritdoc />
    public override int GetHashCode() => Id.GetHashCode(StringComparison.Ordinal);
}
