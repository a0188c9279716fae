using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>What a training step does, cluster-wide, as the energy and cost models need it.</summary>
/// <param name="StepTime">The predicted step time.</param>
/// <param name="HardwareWork">FLOPs the chips execute, recompute included.</param>
/// <param name="MemoryTraffic">Bytes the chips read and write in high-bandwidth memory.</param>
/// <param name="LinkTraffic">Bytes the chips send on their links.</param>
/// <param name="Tokens">Tokens the step trains.</param>
/// <param name="ModelWork">Model FLOPs of the step, for performance per watt.</param>
/// <param name="Bf16Work">
/// The part of <paramref name="HardwareWork"/> that a low-precision recipe runs in BF16 (fused attention, the output
/// head): it costs BF16's energy per FLOP, the rest the job's format's. Zero where the job is in BF16 already.
/// </param>
public readonly record struct StepActivity(Duration StepTime, Flops HardwareWork, Bytes MemoryTraffic, Bytes LinkTraffic, double Tokens, Flops ModelWork, Flops Bf16Work = default);
