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
/// <param name="ContextParallelCommunication">The context-parallel exchange not hidden behind attention: ring attention's key-value blocks (and their gradients) beyond the attention steps, or the all-gather's and all-to-all's collectives.</param>
/// <param name="ExpertParallelCommunication">Mixture-of-experts token dispatch and combine (all-to-all) in every pass.</param>
/// <param name="HostLaunchWait">
/// Time the chips wait for the host to launch expert multiplies shorter than the training framework's launch time
/// (recompute included): host-bound, not compute-bound.
/// </param>
/// <param name="ActivationOffload">Moving offloaded layers' activations to and from the host, where the layers' passes do not cover it.</param>
/// <param name="PowerThrottling">
/// What the step takes longer where the chips would average more than their power limit, as the energy model finds:
/// they lower their clocks, and the same work spreads over a longer step (zero where they stay within it).
/// </param>
public sealed record StepBreakdown(
    Duration Compute,
    Duration Recompute,
    Duration TensorParallelCommunication,
    Duration PipelineCommunication,
    Duration PipelineBubble,
    Duration DataParallelCommunication,
    Duration Optimizer,
    Duration ContextParallelCommunication = default,
    Duration ExpertParallelCommunication = default,
    Duration HostLaunchWait = default,
    Duration ActivationOffload = default,
    Duration PowerThrottling = default)
{
    /// <summary>The step time: the sum of the parts.</summary>
    public Duration Total => Compute + Recompute + HostLaunchWait + ActivationOffload + TensorParallelCommunication + ContextParallelCommunication + ExpertParallelCommunication + PipelineCommunication + PipelineBubble + DataParallelCommunication + Optimizer + PowerThrottling;

    /// <summary>Name of the compute part.</summary>
    public const string ComputeName = "compute";

    /// <summary>Name of the recompute part.</summary>
    public const string RecomputeName = "recompute";

    /// <summary>Name of the host launch wait part.</summary>
    public const string HostLaunchName = "host launches of expert multiplies";

    /// <summary>Name of the activation offload part.</summary>
    public const string ActivationOffloadName = "activation offload";

    /// <summary>Name of the tensor-parallel communication part.</summary>
    public const string TensorParallelName = "tensor-parallel communication";

    /// <summary>Name of the context-parallel communication part.</summary>
    public const string ContextParallelName = "context-parallel communication";

    /// <summary>Name of the expert-parallel communication part.</summary>
    public const string ExpertParallelName = "expert-parallel communication";

    /// <summary>Name of the pipeline communication part.</summary>
    public const string PipelineName = "pipeline communication";

    /// <summary>Name of the pipeline bubble part.</summary>
    public const string BubbleName = "pipeline bubble";

    /// <summary>Name of the data-parallel communication part.</summary>
    public const string DataParallelName = "data-parallel communication";

    /// <summary>Name of the optimizer part.</summary>
    public const string OptimizerName = "optimizer";

    /// <summary>Name of the power limit's part.</summary>
    public const string PowerThrottlingName = "power limit (throttled)";

    /// <summary>The parts with their names, in the order reports print them.</summary>
    public IEnumerable<(string Name, Duration Time)> Parts() =>
        new (string, Duration)[]
        {
            (ComputeName, Compute), (RecomputeName, Recompute), (HostLaunchName, HostLaunchWait), (ActivationOffloadName, ActivationOffload), (TensorParallelName, TensorParallelCommunication),
            (ContextParallelName, ContextParallelCommunication), (ExpertParallelName, ExpertParallelCommunication), (PipelineName, PipelineCommunication), (BubbleName, PipelineBubble),
            (DataParallelName, DataParallelCommunication), (OptimizerName, Optimizer), (PowerThrottlingName, PowerThrottling),
        };

    /// <summary>The parts as a layout's bottleneck is judged: compute together with its recompute, then the others.</summary>
    public IEnumerable<(string Name, Duration Time)> Bottlenecks() =>
        Parts().Where(part => part.Name != RecomputeName).Select(part => part.Name == ComputeName ? (part.Name, Compute + Recompute) : part);

    /// <summary>The largest of <see cref="Bottlenecks"/>.</summary>
    public (string Name, Duration Time) Largest => Bottlenecks().MaxBy(part => part.Time.Seconds);
}
