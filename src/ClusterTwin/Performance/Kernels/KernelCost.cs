using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Performance.Kernels;

/// <summary>Roofline cost of one kernel on one chip: the slower of its compute and its memory traffic.</summary>
/// <param name="PeakRate">The chip's dense peak matrix rate at the job's precision.</param>
/// <param name="AttentionPeakRate">The peak rate fused attention runs at: BF16 even in FP8 training (Transformer Engine's default).</param>
/// <param name="MemoryBandwidth">The chip's high-bandwidth memory bandwidth.</param>
/// <param name="Efficiency">The chip family's efficiency curves.</param>
public sealed record KernelCost(FlopRate PeakRate, FlopRate AttentionPeakRate, Bandwidth MemoryBandwidth, ChipEfficiency Efficiency)
{
    /// <summary>
    /// The least time of one launch of a kernel that runs per expert (<see cref="Kernel.PerExpertLaunch"/>): the
    /// training framework's host time to issue it (<see cref="Workloads.TrainingFramework.ExpertLaunch"/>).
    /// </summary>
    public Duration ExpertLaunch { get; init; }

    /// <summary>Time of a kernel doing <paramref name="work"/> and moving <paramref name="traffic"/>.</summary>
    public Duration Time(KernelKind kind, Flops work, Bytes traffic)
    {
        var memoryTime = traffic / (MemoryBandwidth * Efficiency.Memory.At(traffic.Count));
        if (kind == KernelKind.Memory || work.Operations <= 0)
        {
            return memoryTime;
        }

        var (curve, peak) = kind == KernelKind.FusedAttention ? (Efficiency.Attention, AttentionPeakRate) : (Efficiency.Matrix, PeakRate);
        var computeTime = work / (peak * curve.At(work.Operations));
        return Duration.Max(computeTime, memoryTime);
    }

    /// <summary>Forward time of an operator.</summary>
    public Duration Forward(in Kernel kernel) => Launched(kernel, Time(kernel.Kind, kernel.Work, kernel.Traffic)) * kernel.Repeats;

    /// <summary>
    /// Backward time of an operator. A matrix multiply's backward is two multiplies of the forward's size
    /// (input gradient and weight gradient), each costed as its own kernel, each its own launch.
    /// </summary>
    public Duration Backward(in Kernel kernel) =>
        (kernel.Kind == KernelKind.Matrix
            ? Launched(kernel, Time(kernel.Kind, kernel.Work, kernel.Traffic)) * kernel.BackwardFactor
            : Time(kernel.Kind, kernel.Work * kernel.BackwardFactor, kernel.Traffic * kernel.BackwardFactor)) * kernel.Repeats;

    /// <summary>
    /// Of <see cref="Forward"/> and <see cref="Backward"/>, the time the chip waits for the host to launch
    /// <paramref name="kernel"/>'s runs: zero unless it is launched per expert and shorter than the launch.
    /// </summary>
    public (Duration Forward, Duration Backward) LaunchWait(in Kernel kernel)
    {
        if (!kernel.PerExpertLaunch || kernel.Kind != KernelKind.Matrix)
        {
            return (Duration.Zero, Duration.Zero);
        }

        var wait = Duration.Max(Duration.Zero, ExpertLaunch - Time(kernel.Kind, kernel.Work, kernel.Traffic)) * kernel.Repeats;
        return (wait, wait * kernel.BackwardFactor);
    }

    /// <summary>One launch of <paramref name="kernel"/> that the device would finish in <paramref name="time"/>: no sooner than the host issues it.</summary>
    private Duration Launched(in Kernel kernel, Duration time) => kernel.PerExpertLaunch ? Duration.Max(time, ExpertLaunch) : time;
}
