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
    /// replica receives, so the slower side binds, per direction.
    /// </summary>
    public Bandwidth TransferBandwidth
    {
        get
        {
            Bandwidth Side(ServingDeployment pool) => (Tier == TransferTier.ScaleUp
                ? pool.Cluster.System.ScaleUpBandwidth.Value.PerDirection
                : pool.Cluster.System.ScaleOutBandwidth?.Value ?? Bandwidth.Zero) * pool.TensorParallelism;
            var (prefill, decode) = (Side(Prefill), Side(Decode));
            return prefill < decode ? prefill : decode;
        }
    }

    /// <summary>
    /// Latency of one transfer: the slower side's scale-up link, or the scale-out fabric's first tier (a transfer
    /// between systems crosses at least one switch).
    /// </summary>
    public Duration TransferLatency
    {
        get
        {
            Duration Side(ServingDeployment pool) => Tier == TransferTier.ScaleUp || pool.Cluster.Fabric.Tiers.IsEmpty
                ? pool.Cluster.System.ScaleUpLatency.Value
                : pool.Cluster.Fabric.Tiers[0].Latency.Value;
            return Duration.Max(Side(Prefill), Side(Decode));
        }
    }

    /// <summary>The time to move <paramref name="tokens"/> tokens of cache, at the wider of the two caches' formats.</summary>
    public Duration TransferTime(long tokens) => TransferLatency + (Prefill.KeyValuePerToken * tokens / TransferBandwidth);
}
