namespace ClusterTwin.Workloads;

/// <summary>
/// How a training framework overlaps a mixture-of-experts layer's dispatch and combine all-to-alls with another
/// micro-batch's computation (Megatron-Core's combined 1F1B: one micro-batch's forward beside another's backward,
/// block against block). Of an all-to-all taking <c>a</c> beside computation taking <c>c</c>, the ideal pairing leaves
/// <c>max(a f, a - c)</c> showing, <c>f</c> being <see cref="CommunicationComputeShare"/>; the framework hides
/// <see cref="Realized"/> of what the ideal hides.
/// </summary>
/// <param name="Realized">The fraction of the time the ideal pairing hides that the framework does hide, 0 to 1.</param>
/// <param name="CommunicationComputeShare">
/// The share of the chip the dispatch and combine kernels occupy while they run beside computation, 0 to 1: the
/// computation beside them gives it up, so at least this share of each all-to-all shows.
/// </param>
public sealed record ExpertOverlap(double Realized, double CommunicationComputeShare)
{
    /// <summary>The ideal pairing: everything the partner's time covers is hidden, and the communication takes nothing from it.</summary>
    public static ExpertOverlap Ideal { get; } = new(1, 0);
}
