using ClusterTwin.Units;

namespace ClusterTwin.Economics;

/// <summary>What a training step does, cluster-wide, as the energy and cost models need it.</summary>
/// <param name="StepTime">The predicted step time.</param>
/// <param name="HardwareWork">FLOPs the chips execute, recompute included.</param>
/// <param name="MemoryTraffic">Bytes the chips read and write in high-bandwidth memory.</param>
/// <param name="LinkTraffic">Bytes the chips send on their links.</param>
/// <param name="Tokens">Tokens the step trains.</param>
/// <param name="ModelWork">Model FLOPs of the step, for performance per watt.</param>
public readonly record struct StepActivity(Duration StepTime, Flops HardwareWork, Bytes MemoryTraffic, Bytes LinkTraffic, double Tokens, Flops ModelWork);
