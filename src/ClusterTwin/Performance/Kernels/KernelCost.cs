using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Performance.Kernels;

/// <summary>Roofline cost of one kernel on one chip: the slower of its compute and its memory traffic.</summary>
/// <param name="PeakRate">The chip's dense peak matrix rate at the job's precision.</param>
/// <param name="Bf16PeakRate">
/// The peak rate of the work a low-precision recipe keeps in BF16: fused attention (Transformer Engine's default) and
/// the multiplies marked <see cref="Kernel.KeptInBf16"/>; the job's own rate where that is lower.
/// </param>
/// <param name="MemoryBandwidth">The chip's high-bandwidth memory bandwidth.</param>
/// <param name="Efficiency">The chip family's efficiency curves.</param>
public sealed record KernelCost(FlopRate PeakRate, FlopRate Bf16PeakRate, Bandwidth MemoryBandwidth, ChipEfficiency Efficiency)
{
    /// <summary>
    /// The host's time to issue one run of a kernel that runs per expert (<see cref="Kernel.PerExpertLaunch"/>), from
    /// the training framework (<see cref="Workloads.TrainingFramework.ExpertLaunchFor"/>): the least time of each run,
    /// or where the host runs ahead (<see cref="HostRunsAhead"/>) what a layer's pass takes at least per run.
    /// </summary>
    public Duration ExpertLaunch { get; init; }

    /// <summary>
    /// Whether the host issues the expert multiplies ahead of the device: nothing in the layer waits for the device
    /// to tell the host how many tokens each expert received, as under drop-and-pad routing, where every expert
    /// takes its fixed capacity. Each run then takes its device time (<see cref="Times"/>), and the host's launches
    /// (<see cref="HostTimes"/>) bound the layer as a whole instead of each run.
    /// </summary>
    public bool HostRunsAhead { get; init; }

    /// <summary>
    /// How many times longer an expert layer's routing kernels (<see cref="Kernel.TokenRouting"/>) take than their fused
    /// kernels' traffic: 1 where the run uses fused permutation kernels, the training framework's
    /// <see cref="Workloads.TrainingFramework.UnfusedTokenRouting"/> where it does not.
    /// </summary>
    public double UnfusedTokenRouting { get; init; } = 1;

    /// <summary>
    /// Time of a kernel doing <paramref name="work"/> and moving <paramref name="traffic"/>; a fused attention
    /// <paramref name="unmasked"/> runs at the unmasked attention curve, and at the family's factor for its
    /// <paramref name="headSize"/> (the curves' 128 where not given).
    /// </summary>
    public Duration Time(KernelKind kind, Flops work, Bytes traffic, bool unmasked = false, AttentionHeadSize? headSize = null) => kind switch
    {
        KernelKind.Memory => Roofline(work, traffic, null),
        KernelKind.FusedAttention => Roofline(work, traffic,
            (Math.Min(1, Efficiency.AttentionForward(unmasked).At(work.Operations) * Efficiency.HeadSizes.At(headSize ?? AttentionHeadSize.Reference).Forward), Bf16PeakRate)),
        _ => Roofline(work, traffic, (Efficiency.Matrix.At(Efficiency.MatrixSizeOnCurves(work.Operations, PeakRate)), PeakRate)),
    };

    // A multiply: at the job's peak, or at BF16's where the recipe keeps it there.
    private Duration Multiply(in Kernel kernel, Flops work, Bytes traffic) =>
        kernel.KeptInBf16 ? Roofline(work, traffic, (Efficiency.Matrix.At(Efficiency.MatrixSizeOnCurves(work.Operations, Bf16PeakRate)), Bf16PeakRate)) : Time(KernelKind.Matrix, work, traffic);

    // The slower of the work at an efficiency of a peak (none for a memory-bound kernel) and the traffic.
    private Duration Roofline(Flops work, Bytes traffic, (double Efficiency, FlopRate Peak)? compute)
    {
        var memoryTime = traffic / (MemoryBandwidth * Efficiency.Memory.At(Efficiency.MemorySizeOnCurves(traffic.Count, MemoryBandwidth)));
        return compute is not { } rate || work.Operations <= 0 ? memoryTime : Duration.Max(work / (rate.Peak * rate.Efficiency), memoryTime);
    }

    // A fused attention's backward: at the family's measured backward curve, read at the forward's operations, where
    // it has one; else as one kernel of the backward's operations on the forward curve. Either at the head size's
    // backward factor.
    private Duration AttentionBackward(in Kernel kernel)
    {
        var (work, traffic) = (kernel.Work * kernel.BackwardFactor, kernel.Traffic * kernel.BackwardFactor);
        var headSize = Efficiency.HeadSizes.At(kernel.HeadSize);
        var efficiency = Efficiency.AttentionBackward(kernel.Unmasked) is { } curve ? curve.At(kernel.Work.Operations) : Efficiency.AttentionForward(kernel.Unmasked).At(work.Operations);
        return Roofline(work, traffic, (Math.Min(1, efficiency * headSize.Backward), Bf16PeakRate));
    }

    /// <summary>Forward time of an operator.</summary>
    public Duration Forward(in Kernel kernel) => Times(kernel).Forward;

    /// <summary>
    /// Backward time of an operator. A matrix multiply's backward is two multiplies of the forward's size
    /// (input gradient and weight gradient), each costed as its own kernel, each its own launch.
    /// </summary>
    public Duration Backward(in Kernel kernel) => Times(kernel).Backward;

    /// <summary>
    /// Forward and backward times of an operator, with the part of each the chip waits for the host to launch its runs:
    /// zero unless it is launched per expert (<see cref="Kernel.PerExpertLaunch"/>), shorter than the launch and the
    /// host does not run ahead, when each run takes <see cref="ExpertLaunch"/> (where it runs ahead, the layer's pass
    /// weighs the launches as a whole: <see cref="HostTimes"/>). The roofline of one run is worked out once.
    /// </summary>
    public KernelTimes Times(in Kernel kernel)
    {
        if (kernel.Kind == KernelKind.FusedAttention)
        {
            return new(Time(kernel.Kind, kernel.Work, kernel.Traffic, kernel.Unmasked, kernel.HeadSize) * kernel.Repeats, AttentionBackward(kernel) * kernel.Repeats, Duration.Zero, Duration.Zero);
        }

        if (kernel.Kind != KernelKind.Matrix)
        {
            var scale = kernel.Repeats * (kernel.TokenRouting ? UnfusedTokenRouting : 1);
            return new(Time(kernel.Kind, kernel.Work, kernel.Traffic) * scale,
                Time(kernel.Kind, kernel.Work * kernel.BackwardFactor, kernel.Traffic * kernel.BackwardFactor) * scale, Duration.Zero, Duration.Zero);
        }

        var run = Multiply(kernel, kernel.Work, kernel.Traffic);
        var launched = kernel.PerExpertLaunch && !HostRunsAhead ? Duration.Max(run, ExpertLaunch) : run;
        var wait = launched - run;
        return new(launched * kernel.Repeats, launched * kernel.BackwardFactor * kernel.Repeats, wait * kernel.Repeats, wait * kernel.Repeats * kernel.BackwardFactor);
    }

    /// <summary>
    /// The host's time to issue an operator's runs in the forward and the backward pass: <see cref="ExpertLaunch"/>
    /// per run of a multiply launched per expert (<see cref="Kernel.PerExpertLaunch"/>), nothing for other kernels.
    /// </summary>
    public (Duration Forward, Duration Backward) HostTimes(in Kernel kernel) =>
        kernel.PerExpertLaunch && kernel.Kind == KernelKind.Matrix ? (ExpertLaunch * kernel.Repeats, ExpertLaunch * kernel.Repeats * kernel.BackwardFactor) : (Duration.Zero, Duration.Zero);
}

/// <summary>An operator's forward and backward times, and the part of each spent waiting for the host to launch it.</summary>
public readonly record struct KernelTimes(Duration Forward, Duration Backward, Duration ForwardWait, Duration BackwardWait);
