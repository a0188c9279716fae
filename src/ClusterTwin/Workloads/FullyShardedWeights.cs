namespace ClusterTwin.Workloads;

/// <summary>What a training framework keeps of the weights under full sharding (ZeRO-3, FSDP), on each chip.</summary>
public enum FullyShardedWeights
{
    /// <summary>
    /// A shard of the weights in the compute precision beside the optimizer's FP32 master shard (Megatron-Core's
    /// distributed optimizer and Megatron-FSDP, DeepSpeed ZeRO-3): 2 + 12 bytes per parameter with Adam, over the shards.
    /// </summary>
    ComputeAndMaster,

    /// <summary>
    /// The FP32 shard alone, which the optimizer updates and which is cast to the compute precision when a unit's
    /// weights are gathered (PyTorch FSDP with mixed precision): 4 + 8 bytes per parameter with Adam, over the shards.
    /// </summary>
    MasterOnly,
}

/// <summary>The catalogue keys of <see cref="FullyShardedWeights"/>.</summary>
public static class FullyShardedWeightsKeys
{
    /// <summary>Each kind by its key.</summary>
    public static KeyDictionary<FullyShardedWeights> All { get; } = new(("compute-and-master", FullyShardedWeights.ComputeAndMaster), ("master-only", FullyShardedWeights.MasterOnly));

    /// <summary>The key of <paramref name="weights"/>.</summary>
    public static string Key(FullyShardedWeights weights) => All.KeyOf(weights);
}
