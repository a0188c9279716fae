namespace ClusterTwin.Parallelism;

/// <summary>
/// How ranks are numbered across the parallel dimensions, innermost first. Ranks fill a system before the next one,
/// so the innermost dimensions stay inside a scale-up domain and the outermost cross the fabric. Context parallelism
/// always sits next to tensor parallelism, as in Megatron-Core's tp-cp-dp-pp order.
/// </summary>
public enum RankOrder
{
    /// <summary>Tensor, (context,) then data, then pipeline (Megatron-LM's default): pipeline stages are farthest apart.</summary>
    TensorDataPipeline,

    /// <summary>Tensor, (context,) then pipeline, then data: a whole model replica inside a domain, data parallelism across the fabric.</summary>
    TensorPipelineData,
}

/// <summary>Distance in rank order between consecutive members of each dimension's groups.</summary>
/// <param name="Tensor">Always 1: tensor parallelism is innermost.</param>
/// <param name="Data">Stride of data-parallel groups.</param>
/// <param name="Pipeline">Stride of pipeline groups.</param>
/// <param name="Context">Stride of context-parallel groups: the tensor-parallel degree.</param>
public readonly record struct RankStrides(long Tensor, long Data, long Pipeline, long Context)
{
    /// <summary>
    /// The stride that places a gradient-reduction group (data times context ranks) like the real one. Without data
    /// parallelism it is the context group itself. Otherwise the context ranks sit next to the tensor ranks and the
    /// data ranks <see cref="Data"/> apart, and a strided group of <c>Data / context</c> holds as many members per
    /// system as the real one: exact in tensor-data-pipeline order, where the two dimensions are adjacent, and in the
    /// other order wherever a system holds whole blocks of tensor x context x pipeline ranks.
    /// </summary>
    public long Gradient(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return plan.DataParallelism == 1 ? Context : Data / plan.ContextParallelism;
    }

    /// <summary>
    /// The stride that places an expert-parallel group (consecutive ranks of a pipeline stage, tensor first): 1 while it
    /// fits in a block of tensor x context ranks, which are adjacent in either order; beyond, by the reasoning of
    /// <see cref="Gradient"/>, <c>Data / (tensor x context)</c> (1 in tensor-data-pipeline order).
    /// </summary>
    public long Expert(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var block = (long)plan.TensorParallelism * plan.ContextParallelism;
        return plan.ExpertParallelism <= block ? 1 : Data / block;
    }

    /// <summary>The strides a plan's order gives.</summary>
    public static RankStrides Of(ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var inner = (long)plan.TensorParallelism * plan.ContextParallelism;
        return plan.Order switch
        {
            RankOrder.TensorDataPipeline => new(1, inner, inner * plan.DataParallelism, plan.TensorParallelism),
            RankOrder.TensorPipelineData => new(1, inner * plan.PipelineParallelism, inner, plan.TensorParallelism),
            _ => throw new ArgumentOutOfRangeException(nameof(plan), plan.Order, "unknown rank order"),
        };
    }
}

/// <summary>The names rank orders have in scenario files and reports.</summary>
public static class RankOrderKeys
{
    /// <summary>The key of an order ("tensor-data-pipeline").</summary>
    public static string Key(this RankOrder order) => order switch
    {
        RankOrder.TensorDataPipeline => "tensor-data-pipeline",
        RankOrder.TensorPipelineData => "tensor-pipeline-data",
        _ => throw new ArgumentOutOfRangeException(nameof(order), order, "unknown rank order"),
    };
}
