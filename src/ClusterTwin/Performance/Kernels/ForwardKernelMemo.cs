using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Kernels;

/// <summary>
/// Remembers the forward kernels of the layer shapes one thread of a plan search has asked for. A layer's kernels
/// depend on the model, the job and seven of the plan's fields (tensor, context and its exchange, expert, micro-batch,
/// sequence parallelism, ranks per chip), not on the pipeline, the virtual stages, the recompute policy or the ZeRO
/// stage, which the search varies innermost: most layouts it simulates reuse the kernels of the one before. For one
/// model and job, the first it is asked about; any other is built afresh. Not thread-safe: one per thread.
/// </summary>
internal sealed class ForwardKernelMemo
{
    /// <summary>At most this many shapes are kept; past it the memo starts again (a search's inner loops need a few).</summary>
    private const int MostShapes = 256;

    private readonly Dictionary<Shape, Kernel[]> shapes = [];
    private ModelArchitecture? model;
    private TrainingJob? job;

    /// <summary><see cref="LayerKernels.Forward"/>, remembered for the first model and job asked about.</summary>
    public Kernel[] Forward(ModelArchitecture model, TrainingJob job, ParallelPlan plan, bool expertLayer, bool averageLoad, bool localAttention)
    {
        ArgumentNullException.ThrowIfNull(plan);
        (this.model, this.job) = (this.model ?? model, this.job ?? job);
        if (!ReferenceEquals(this.model, model) || !ReferenceEquals(this.job, job))
        {
            return LayerKernels.Forward(model, job, plan, expertLayer, averageLoad, localAttention);
        }

        var shape = new Shape(plan.TensorParallelism, plan.ContextParallelism, plan.ContextCommunication, plan.ExpertParallelism, plan.MicroBatchSize,
            plan.SequenceParallelism, plan.RanksPerChip, expertLayer, averageLoad, localAttention);
        if (shapes.TryGetValue(shape, out var kernels))
        {
            return kernels;
        }

        if (shapes.Count == MostShapes)
        {
            shapes.Clear();
        }

        return shapes[shape] = LayerKernels.Forward(model, job, plan, expertLayer, averageLoad, localAttention);
    }

    /// <summary>What of the plan and the layer the kernels depend on (the fields <see cref="LayerKernels"/> reads).</summary>
    private readonly record struct Shape(int Tensor, int Context, ContextCommunication Exchange, int Expert, int MicroBatch, bool SequenceParallel, int RanksPerChip,
        bool ExpertLayer, bool AverageLoad, bool LocalAttention);
}
