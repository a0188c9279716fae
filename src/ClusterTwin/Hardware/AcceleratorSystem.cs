using ClusterTwin.Units;

namespace ClusterTwin.Hardware;

/// <summary>
/// A scale-up domain of chips that is replicated to build a cluster: a server, an UltraServer, an NVL72 rack, a TPU slice.
/// </summary>
public sealed record AcceleratorSystem
{
    /// <summary>Catalogue id, such as <c>aws-trn3-gen2-ultraserver</c>.</summary>
    public required string Id { get; init; }

    /// <summary>Display name.</summary>
    public required string Name { get; init; }

    /// <summary>Maker.</summary>
    public required string Vendor { get; init; }

    /// <summary>The chip, resolved from the catalogue.</summary>
    public required Chip Chip { get; init; }

    /// <summary>Chips in one system.</summary>
    public required Figure<int> Chips { get; init; }

    /// <summary>Name of the scale-up fabric.</summary>
    public required string ScaleUpName { get; init; }

    /// <summary>Topology of the scale-up domain.</summary>
    public required ScaleUpTopology Topology { get; init; }

    /// <summary>Total scale-up bandwidth per chip, across all its links.</summary>
    public required Figure<LinkBandwidth> ScaleUpBandwidth { get; init; }

    /// <summary>Latency of one transfer across the scale-up domain (a collective step).</summary>
    public required Figure<Duration> ScaleUpLatency { get; init; }

    /// <summary>Name of the scale-out network adapter.</summary>
    public string? ScaleOutName { get; init; }

    /// <summary>
    /// Systems whose chips can join this system's scale-up domain (NVLink Fusion: Trainium4 beside NVIDIA GPUs on one
    /// NVLink switch fabric); a disaggregated deployment may move caches between them over scale-up.
    /// </summary>
    public System.Collections.Immutable.ImmutableArray<string> SharesDomainWith { get; init; } = [];

    /// <summary>Chips of the whole scale-up domain: the system's, or for part of a system the whole one's.</summary>
    public int DomainChips => WholeSystemChips ?? Chips.Value;

    /// <summary>The catalogue id of the whole system: its own, or for part of a system the whole one's.</summary>
    public string WholeId => WholeSystemId ?? Id;

    /// <summary>For part of a system (8 GPUs of a GB200 NVL72), the whole system's chips; null for a whole system.</summary>
    public int? WholeSystemChips { get; init; }

    /// <summary>For part of a system, the whole system's catalogue id; null for a whole system.</summary>
    public string? WholeSystemId { get; init; }

    /// <summary>Scale-out bandwidth per chip (the system's NIC bandwidth divided by its chips); null where none is published, and then the system cannot be replicated.</summary>
    public Figure<Bandwidth>? ScaleOutBandwidth { get; init; }

    /// <summary>
    /// Bandwidth per chip, each way, between the chip and its host's memory (PCIe, NVLink-C2C): what activation
    /// offloading moves over; null where the catalogue has none, and then a plan cannot offload.
    /// </summary>
    public Figure<Bandwidth>? HostLink { get; init; }

    /// <summary>
    /// The host CPUs' memory of the whole system, which its chips share: where offloaded activations stay; null where
    /// the catalogue has none, and then offloading is not checked against it.
    /// </summary>
    public Figure<Bytes>? HostMemory { get; init; }

    /// <summary>The host memory's peak bandwidth, the whole system's; null where the catalogue has none.</summary>
    public Figure<Bandwidth>? HostMemoryBandwidth { get; init; }

    /// <summary>Each chip's share of the host memory: the whole system's over the whole system's chips.</summary>
    public Bytes? HostMemoryPerChip => HostMemory is { } memory ? memory.Value / DomainChips : null;

    /// <summary>
    /// The rate one chip moves activations to or from the host at: its host link, or its share of the host memory's
    /// bandwidth where that is less (every chip of the system offloads at once); null without a host link.
    /// </summary>
    public Bandwidth? OffloadBandwidth => HostLink is not { } link ? null
        : HostMemoryBandwidth is { } memory ? Bandwidth.Min(link.Value, memory.Value / DomainChips) : link.Value;

    /// <summary>Maximum power of the whole system, where published.</summary>
    public Figure<Power>? SystemPower { get; init; }

    /// <summary>What the system draws besides its chips, and its facility's overhead; null where the catalogue has none.</summary>
    public SystemPower? Overheads { get; init; }
}
