namespace ClusterTwin.Parallelism;

/// <summary>
/// How ranks are numbered across the parallel dimensions, innermost first. Ranks fill a system before the next one,
/// so the innermost dimensions stay inside a scale-up domain and the outermost cross the fabric.
/// </summary>
public enum RankOrder
{
    /// <summary>Tensor, then data, then pipeline (Megatron-LM's default): pipeline stages are farthest apart.</summary>
    TensorDataPipeline,

    /// <summary>Tensor, then pipeline, then data: a whole model replica inside a domain, data parallelism across the fabric.</summary>
    TensorPipelineData,
}

/// <summary>Distance in rank order between consecutive members of each dimension's groups.</summary>
/// <param name="Tensor">Always 1: tensor parallelism is innermost.</param>
/// <param name="Data">Stride of data-parallel groups.</param>
/// <param name="Pipeline">Stride of pipeline groups.</param>
public readonly record struct RankStrides(long Tensor, long Data, long Pipeline)
{
    /// <summary>The strides a plan's order gives.</summary>
    public static RankStrides Of(ParallelPlan plan) => plan.Order switch
    {
        RankOrder.TensorDataPipeline => new(1, plan.TensorParallelism, (long)plan.TensorParallelism * plan.DataParallelism),
        RankOrder.TensorPipelineData => new(1, (long)plan.TensorParallelism * plan.PipelineParallelism, plan.TensorParallelism),
        _ => throw new ArgumentOutOfRangeException(nameof(plan), plan.Order, "unknown rank order"),
    };
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
