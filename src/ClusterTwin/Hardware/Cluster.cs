using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>A system replicated <see cref="SystemCount"/> times on a scale-out fabric.</summary>
/// <param name="System">The replicated scale-up domain.</param>
/// <param name="SystemCount">How many systems.</param>
/// <param name="Fabric">The network joining them.</param>
public sealed record Cluster(AcceleratorSystem System, int SystemCount, Fabric Fabric)
{
    /// <summary>
    /// Where the job's systems sit on a fabric it shares with other jobs, which sets the tiers its collectives cross;
    /// null where it has the fabric to itself, on consecutive systems from a switch group's start.
    /// </summary>
    public IFabricPlacement? Placement { get; init; }

    /// <summary>Chips in the cluster.</summary>
    public long ChipCount => (long)System.Chips.Value * SystemCount;

    /// <summary>The chip every position holds.</summary>
    public Chip Chip => System.Chip;

    /// <summary>
    /// Latency of one send between chips: the scale-up link's, or across systems no less than the scale-out fabric's
    /// first tier (a send between systems crosses at least one switch).
    /// </summary>
    public Duration SendLatency(bool acrossSystems) => !acrossSystems || Fabric.Tiers.IsEmpty
        ? System.ScaleUpLatency.Value
        : Duration.Max(System.ScaleUpLatency.Value, Fabric.Tiers[0].Latency.Value);
}
