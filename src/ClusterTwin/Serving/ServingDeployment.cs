using ClusterTwin.Hardware;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Serving;

/// <summary>
/// A model served on a cluster: replicas of one tensor-parallel group each, with the batching limits a server such
/// as vLLM, SGLang or TensorRT-LLM is configured with.
/// </summary>
public sealed record ServingDeployment
{
    /// <summary>The hardware: all replicas together.</summary>
    public required Cluster Cluster { get; init; }

    /// <summary>The chip family's efficiency curves.</summary>
    public required ChipEfficiency Efficiency { get; init; }

    /// <summary>The model served.</summary>
    public required ModelArchitecture Model { get; init; }

    /// <summary>Chips of one replica's tensor-parallel group.</summary>
    public required int TensorParallelism { get; init; }

    /// <summary>The format of the weights and of the matrix multiplies.</summary>
    public required NumberFormat WeightFormat { get; init; }

    /// <summary>Bytes per element of the key-value cache (2 for BF16, 1 for FP8).</summary>
    public required double KeyValueBytesPerElement { get; init; }

    /// <summary>Most requests a replica runs at once (vLLM's max_num_seqs).</summary>
    public required int MaximumBatch { get; init; }

    /// <summary>Most tokens one iteration processes, decode and prefill chunks together (vLLM's max_num_batched_tokens).</summary>
    public required int MaximumBatchTokens { get; init; }

    /// <summary>The share of each chip's memory the server may use for weights and the cache (vLLM's gpu_memory_utilization).</summary>
    public required double MemoryUtilization { get; init; }

    /// <summary>Replicas: the cluster's chips over the tensor-parallel degree.</summary>
    public long Replicas => Cluster.ChipCount / TensorParallelism;

    /// <summary>Weights one chip of a replica holds: every layer and the vocabulary split across the tensor group.</summary>
    public Bytes WeightsPerChip => Bytes.FromCount(Model.Parameters / TensorParallelism * WeightFormat.BytesPerElement);

    /// <summary>
    /// Key-value cache one token occupies on one chip: keys and values of every layer for the chip's share of the
    /// key-value heads (at least one head; latent attention keeps its compressed latent, replicated on every chip).
    /// </summary>
    public Bytes KeyValuePerTokenPerChip => Bytes.FromCount(Model.Layers * KeyValueBytesPerElement *
        (Model.LatentAttention is { } latent ? latent.KeyValueRank + latent.RotaryHeadSize : 2 * Model.KeyValueWidthPerRank(TensorParallelism)));

    /// <summary>Tokens of key-value cache a replica holds: the memory left after the weights, within the utilization.</summary>
    public long KeyValueCapacityTokens
    {
        get
        {
            var free = (Cluster.Chip.MemoryCapacity.Value * MemoryUtilization) - WeightsPerChip;
            return free.Count <= 0 ? 0 : (long)Math.Floor(free / KeyValuePerTokenPerChip);
        }
    }
}
