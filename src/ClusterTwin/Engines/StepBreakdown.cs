using ClusterTwin.Units;

namespace ClusterTwin.Engines;

/// <summary>
/// Where the time of one training step goes. The parts add up to the step time exactly: communication counts only
/// where it is exposed (not hidden behind compute).
/// </summary>
/// <param name="Compute">Forward and backward kernels of every micro-batch on the slowest pipeline stage.</param>
/// <param name="Recompute">Forward kernels replayed for activation recompute.</param>
/// <param name="TensorParallelCommunication">All-reduce, or all-gather and reduce-scatter under sequence parallelism, inside each layer.</param>
/// <param name="PipelineCommunication">Activations and gradients sent between pipeline stages.</param>
/// <param name="PipelineBubble">Time the slowest stage waits while the pipeline fills and drains.</param>
/// <param name="DataParallelCommunication">Gradient reduction and weight gathering not hidden behind the backward pass.</param>
/// <param name="Optimizer">The optimizer step.</param>
public sealed record StepBreakdown(
    Duration Compute,
    Duration Recompute,
    Duration TensorParallelCommunication,
    Duration PipelineCommunication,
    Duration PipelineBubble,
    Duration DataParallelCommunication,
    Duration Optimizer)
{
    /// <summary>The step time: the sum of the parts.</summary>
    public Duration Total => Compute + Recompute + TensorParallelCommunication + PipelineCommunication + PipelineBubble + DataParallelCommunication + Optimizer;

    /// <summary>The parts with their names, in the order reports print them.</summary>
    public IEnumerable<(string Name, Duration Time)> Parts() =>
        new (string, Duration)[]
        {
            ("compute", Compute), ("recompute", Recompute), ("tensor-parallel communication", TensorParallelCommunication),
            ("pipeline communication", PipelineCommunication), ("pipeline bubble", PipelineBubble),
            ("data-parallel communication", DataParallelCommunication), ("optimizer", Optimizer),
        };
}
