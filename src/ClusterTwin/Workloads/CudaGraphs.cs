namespace ClusterTwin.Workloads;

/// <summary>What of each layer a training job captures as CUDA graphs, which the device replays without the host launching each kernel.</summary>
public enum CudaGraphs
{
    /// <summary>
    /// Nothing, or only parts of a layer that leave the expert multiplies outside: Megatron-Core's partial scopes
    /// (<c>--cuda-graph-scope attn moe_router moe_preprocess</c>) end before the experts, whose token counts vary from
    /// step to step under dropless routing, so their host launches stay as they are.
    /// </summary>
    None,

    /// <summary>
    /// Whole layers, expert multiplies included (Megatron-Core's <c>enable_cuda_graph</c>, or the <c>moe</c> scope):
    /// nothing is launched per expert. A graph replays fixed shapes, so a mixture-of-experts layer needs drop-and-pad
    /// routing (an expert capacity factor): "the tensor in MoE layer has dynamic shape, which is not applicable for
    /// CUDA graph" (a Megatron-LM maintainer, NVIDIA/Megatron-LM#1598; Transformer Engine's MoE support captures "a
    /// part of one transformer layer, instead of covering the whole layer", NVIDIA/TransformerEngine#1233).
    /// </summary>
    WholeLayers,
}

/// <summary>The keys of <see cref="CudaGraphs"/>.</summary>
public static class CudaGraphsKeys
{
    /// <summary>Each capture by its key in scenario files.</summary>
    public static KeyDictionary<CudaGraphs> All { get; } = new(("none", CudaGraphs.None), ("layers", CudaGraphs.WholeLayers));

    /// <summary>The key of <paramref name="graphs"/>.</summary>
    public static string Key(CudaGraphs graphs) => All.KeyOf(graphs);
}
