namespace ClusterTwin.Parallelism;

/// <summary>
/// How the ranks of a context-parallel group, each holding a slice of every sequence, give each other what attention
/// needs: Megatron-Core's <c>--cp-comm-type</c>.
/// </summary>
public enum ContextCommunication
{
    /// <summary>
    /// Ring attention (<c>p2p</c>, the default): each rank passes its key-value block to the next, <c>c - 1</c> times,
    /// while it computes attention against the block it holds; only what that attention cannot cover shows.
    /// </summary>
    Ring,

    /// <summary>
    /// <c>all_gather</c> (Llama 3's context parallelism): the ranks all-gather the keys and values before attention and
    /// reduce-scatter their gradients after the backward one; neither overlaps attention.
    /// </summary>
    AllGather,

    /// <summary>
    /// <c>a2a</c> (DeepSpeed-Ulysses): an all-to-all trades the sequence split of the queries, keys and values for a
    /// split of the heads, each rank computes whole-sequence attention for its heads, and a second all-to-all trades
    /// the output back; the backward pass runs the reverse pair. Needs the heads of each tensor-parallel rank, keys and
    /// values included, to divide by the context-parallel degree.
    /// </summary>
    AllToAll,
}

/// <summary>The scenario keys of <see cref="ContextCommunication"/>.</summary>
public static class ContextCommunicationKeys
{
    /// <summary>Each variant by its key.</summary>
    public static KeyDictionary<ContextCommunication> All { get; } = new(
        ("ring", ContextCommunication.Ring), ("all-gather", ContextCommunication.AllGather), ("all-to-all", ContextCommunication.AllToAll));

    /// <summary>The key of <paramref name="communication"/>.</summary>
    public static string Key(ContextCommunication communication) => All.KeyOf(communication);
}
