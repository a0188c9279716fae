using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>Which network carries a request's key-value cache from its prefill replica to its decode replica.</summary>
public enum TransferTier
{
    /// <summary>One scale-up domain holds both pools (an NVLink switch, or an NVLink Fusion rack of mixed chips).</summary>
    ScaleUp,

    /// <summary>The scale-out network between the pools' systems.</summary>
    ScaleOut,
}

/// <summary>
/// Disaggregated serving: prompts are prefilled on one pool of replicas and decoded on another, possibly of another
/// chip, and each request's key-value cache moves between them (DistServe, Mooncake, NVIDIA Dynamo).
/// </summary>
public sealed record DisaggregatedDeployment
{
    /// <summary>The prefill pool.</summary>
    public required ServingDeployment Prefill { get; init; }

    /// <summary>The decode pool.</summary>
    public required ServingDeployment Decode { get; init; }

    /// <summary>The network the caches cross.</summary>
    public required TransferTier Tier { get; init; }

    /// <summary>
    /// Bandwidth of one transfer: every chip of the prefill replica sends its share while every chip of the decode
    /// replica receives, so the slower side binds, per direction. An expert-parallel pool holds a request's cache on
    /// one chip, whose link alone carries it.
    /// </summary>
    public Bandwidth TransferBandwidth
    {
        get
        {
            Bandwidth Side(ServingDeployment pool) => ChipLink(pool) * (pool.ExpertParallel ? 1 : pool.ChipsPerReplica);
            var (prefill, decode) = (Side(Prefill), Side(Decode));
            return prefill < decode ? prefill : decode;
        }
    }

    /// <summary>
    /// Transfers one prefill replica runs at once: its links' whole bandwidth over one transfer's. One where a transfer
    /// fills them; more where the other side binds each transfer (a smaller decode replica, or an expert-parallel pool
    /// that moves each cache over one chip's link), so caches bound for different chips cross side by side.
    /// </summary>
    public int TransferLanes
    {
        get
        {
            var whole = ChipLink(Prefill) * Prefill.ChipsPerReplica;
            var one = TransferBandwidth;
            return one.BytesPerSecond > 0 ? Math.Max(1, (int)Math.Floor((whole.BytesPerSecond / one.BytesPerSecond) + 1e-9)) : 1;
        }
    }

    /// <summary>One chip's link of <paramref name="pool"/> on the tier the caches cross, per direction.</summary>
    private Bandwidth ChipLink(ServingDeployment pool) => Tier == TransferTier.ScaleUp
        ? pool.Cluster.System.ScaleUpBandwidth.Value.PerDirection
        : pool.Cluster.System.ScaleOutBandwidth?.Value ?? Bandwidth.Zero;

    /// <summary>
    /// Latency of one transfer: the slower side's scale-up link, or the scale-out fabric's first tier (a transfer
    /// between systems crosses at least one switch).
    /// </summary>
    public Duration TransferLatency
    {
        get
        {
            Duration Side(ServingDeployment pool) => pool.Cluster.SendLatency(acrossSystems: Tier == TransferTier.ScaleOut);
            return Duration.Max(Side(Prefill), Side(Decode));
        }
    }

    /// <summary>
    /// Why the two pools cannot exchange caches this way, or null: over scale-up both must sit in one switched domain
    /// (the same system, or systems the catalogue says share one); over scale-out both need a scale-out port.
    /// </summary>
    public string? Problem
    {
        get
        {
            if (Incompatibility(Prefill.Cluster.System, Decode.Cluster.System, Tier) is { } problem)
            {
                return problem;
            }

            // One scale-up domain holds both pools: its size bounds their chips together.
            var domain = Math.Max(Prefill.Cluster.System.DomainChips, Decode.Cluster.System.DomainChips);
            var chips = Prefill.Cluster.ChipCount + Decode.Cluster.ChipCount;
            return Tier == TransferTier.ScaleUp && (chips > domain || Prefill.Cluster.SystemCount > 1 || Decode.Cluster.SystemCount > 1)
                ? $"the pools' {chips} chips do not fit one {domain}-chip scale-up domain, which transfer over scale-up needs (use scale-out between domains)"
                : null;
        }
    }

    /// <summary>Why caches cannot move between chips of <paramref name="prefill"/> and <paramref name="decode"/> over <paramref name="tier"/>, or null.</summary>
    public static string? Incompatibility(AcceleratorSystem prefill, AcceleratorSystem decode, TransferTier tier)
    {
        ArgumentNullException.ThrowIfNull(prefill);
        ArgumentNullException.ThrowIfNull(decode);
        if (tier == TransferTier.ScaleOut)
        {
            var missing = new[] { prefill, decode }.FirstOrDefault(system => system.ScaleOutBandwidth is not { Value.BytesPerSecond: > 0 });
            return missing is null ? null : $"the {missing.Name} has no scale-out bandwidth to send caches over";
        }

        if (prefill.Topology.Kind != ScaleUpTopologyKind.Switched || decode.Topology.Kind != ScaleUpTopologyKind.Switched)
        {
            return "transfer over scale-up needs both pools on switched scale-up domains (a torus holds no other system's chips); use scale-out";
        }

        var (one, other) = (prefill.WholeId, decode.WholeId);
        return one == other || prefill.SharesDomainWith.Contains(other) || decode.SharesDomainWith.Contains(one)
            ? null
            : $"the {prefill.Name} and the {decode.Name} share no scale-up domain (a system's scale_up.shares_domain_with says which do); use scale-out";
    }

    /// <summary>The time to move <paramref name="tokens"/> tokens of cache in the prefill pool's cache format.</summary>
    public Duration TransferTime(long tokens) => Transfer.Time(Prefill.CacheLayout.Units(tokens));

    /// <summary>The figures of one transfer, worked out once for a run of many.</summary>
    public CacheTransfer Transfer => new(TransferLatency, Prefill.KeyValuePerToken / Prefill.CacheLayout.UnitsPerToken, TransferBandwidth);

    /// <summary>
    /// The index of the replica whose links a prefill replica's transfers queue on: a pipelined replica's stages (the
    /// scheduler's replicas) share one set of links.
    /// </summary>
    public int LinkOwner(int replica) => replica / Prefill.PipelineParallelism * Prefill.PipelineParallelism;
}

/// <summary>One key-value cache transfer between pools: a latency, then the cache's bytes over the bandwidth.</summary>
/// <param name="Latency">Latency of the transfer.</param>
/// <param name="PerUnit">Cache bytes per unit of the prefill pool's <see cref="CacheLayout"/>: a token, or a layer-token.</param>
/// <param name="Bandwidth">Bandwidth of the transfer.</param>
public readonly record struct CacheTransfer(Duration Latency, Bytes PerUnit, Bandwidth Bandwidth)
{
    /// <summary>The time to move <paramref name="units"/> units of cache (<see cref="CacheLayout.Units"/>).</summary>
    public Duration Time(long units) => Latency + (PerUnit * units / Bandwidth);
}
