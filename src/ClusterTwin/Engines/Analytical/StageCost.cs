using ClusterTwin.Units;

namespace ClusterTwin.Engines.Analytical;

/// <summary>Time one pipeline stage spends on one micro-batch, by kind of work, with the work and memory traffic it executes.</summary>
/// <remarks>
/// <see cref="HostWait"/> is the time the chip waits for the host to launch expert multiplies in the forward and backward
/// passes, <see cref="RecomputeHostWait"/> the same in the recompute; <see cref="Compute"/> and <see cref="Recompute"/>
/// exclude it. <see cref="Bf16Work"/> is the part of <see cref="HardwareWork"/> run at the BF16 rate under a
/// low-precision format (fused attention, the output head). <see cref="Forward"/> is how long a layer's forward pass
/// takes, its exposed communication included: part of <see cref="Total"/>, the window offloaded activations move in
/// (zero for the embedding and the head, which no move hides behind). <see cref="WeightGradient"/> is the part of
/// <see cref="Compute"/> that computes the weights' gradients in the backward pass (one of a weight multiply's two
/// backward products): the pass a zero-bubble schedule defers, since no other rank waits for it.
/// </remarks>
internal readonly record struct StageCost(Duration Compute, Duration Recompute, Duration TensorCommunication, Flops HardwareWork, Duration ContextCommunication = default, Duration ExpertCommunication = default, Bytes MemoryTraffic = default,
    Duration HostWait = default, Duration RecomputeHostWait = default, Flops Bf16Work = default, Duration Forward = default, Duration WeightGradient = default)
{
    public Duration Total => Compute + Recompute + TensorCommunication + ContextCommunication + ExpertCommunication + HostWait + RecomputeHostWait;

    public static StageCost operator +(StageCost left, StageCost right) =>
        new(left.Compute + right.Compute, left.Recompute + right.Recompute, left.TensorCommunication + right.TensorCommunication,
            left.HardwareWork + right.HardwareWork, left.ContextCommunication + right.ContextCommunication, left.ExpertCommunication + right.ExpertCommunication,
            left.MemoryTraffic + right.MemoryTraffic, left.HostWait + right.HostWait, left.RecomputeHostWait + right.RecomputeHostWait, left.Bf16Work + right.Bf16Work, left.Forward + right.Forward,
            left.WeightGradient + right.WeightGradient);

    /// <summary>The stage that takes longest of the first, a middle and the last: the first where it ties the last, a middle only where strictly longer.</summary>
    public static StageCost Slowest(StageCost first, StageCost middle, StageCost last)
    {
        var slowest = first.Total >= last.Total ? first : last;
        return middle.Total > slowest.Total ? middle : slowest;
    }

    public static StageCost operator *(StageCost cost, double times) =>
        new(cost.Compute * times, cost.Recompute * times, cost.TensorCommunication * times, cost.HardwareWork * times, cost.ContextCommunication * times, cost.ExpertCommunication * times, cost.MemoryTraffic * times,
            cost.HostWait * times, cost.RecomputeHostWait * times, cost.Bf16Work * times, cost.Forward * times, cost.WeightGradient * times);
}
