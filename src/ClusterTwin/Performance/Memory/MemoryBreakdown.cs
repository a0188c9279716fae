using ClusterTwin.Units;

namespace ClusterTwin.Performance.Memory;

/// <summary>What occupies one chip's high-bandwidth memory, on the most loaded pipeline stage.</summary>
/// <param name="Weights">Model weights in the compute precision.</param>
/// <param name="Gradients">Gradient accumulation buffers.</param>
/// <param name="OptimizerState">FP32 master weights and the two Adam moments.</param>
/// <param name="Activations">Activations kept for the backward pass, for every micro-batch in flight.</param>
/// <param name="CommunicationBuffers">Collective and pipeline send/receive buffers.</param>
public sealed record MemoryBreakdown(Bytes Weights, Bytes Gradients, Bytes OptimizerState, Bytes Activations, Bytes CommunicationBuffers)
{
    /// <summary>All of it.</summary>
    public Bytes Total => Weights + Gradients + OptimizerState + Activations + CommunicationBuffers;
}
