using ClusterTwin.Units;

namespace ClusterTwin.Performance.Kernels;

/// <summary>What limits an operator, and so which efficiency curve applies.</summary>
public enum KernelKind
{
    /// <summary>A matrix multiply on the matrix units.</summary>
    Matrix,

    /// <summary>A fused attention kernel (FlashAttention-style).</summary>
    FusedAttention,

    /// <summary>An elementwise or reduction kernel bound by memory traffic (norms, activations, softmax, dropout).</summary>
    Memory,
}

/// <summary>Which part of the layer an operator belongs to; selective recompute replays only the attention core.</summary>
public enum KernelRegion
{
    /// <summary>Projections, feed-forward, norms and residuals.</summary>
    Layer,

    /// <summary>Scores, softmax, dropout and attention over values.</summary>
    AttentionCore,

    /// <summary>A mixture-of-experts block: router, permutations, routed and shared experts.</summary>
    Experts,
}

/// <summary>One kernel of a forward pass on one chip, for one micro-batch.</summary>
/// <param name="Name">What it computes ("query-key-value projection").</param>
/// <param name="Kind">Matrix, fused attention or memory-bound.</param>
/// <param name="Region">Attention core or the rest of the layer.</param>
/// <param name="Work">Floating-point operations.</param>
/// <param name="Traffic">Bytes read and written in high-bandwidth memory.</param>
/// <param name="BackwardFactor">Backward work relative to forward: 2 for a matrix multiply (input and weight gradients).</param>
/// <param name="Repeats">
/// How many times the kernel runs, each with this work and traffic (one expert of a grouped multiply, one ring step or
/// one local chunk of context-parallel attention): the efficiency is that of one run.
/// </param>
public readonly record struct Kernel(string Name, KernelKind Kind, KernelRegion Region, Flops Work, Bytes Traffic, double BackwardFactor, int Repeats = 1)
{
    /// <summary>
    /// Whether each run is one expert's multiply of a grouped expert layer, launched by the host one expert at a time:
    /// it then takes at least the framework's launch time (<see cref="KernelCost.ExpertLaunch"/>), or, where the host
    /// runs ahead (drop-and-pad routing), its layer's pass takes at least all its runs' launches.
    /// </summary>
    public bool PerExpertLaunch { get; init; }

    /// <summary>
    /// Whether the kernel is one of the memory-bound steps of an expert layer's routing: the router's softmax and top-k,
    /// the permutation that groups tokens by expert, and the unpermutation. Counted at their fused kernels' traffic;
    /// a run without those fused kernels takes <see cref="KernelCost.UnfusedTokenRouting"/> times as long.
    /// </summary>
    public bool TokenRouting { get; init; }

    /// <summary>
    /// Whether a fused attention masks nothing (a context-parallel ring step between two different chunks): it runs at
    /// the family's unmasked attention curves, where it has them (<see cref="Hardware.ChipEfficiency.AttentionForward"/>).
    /// </summary>
    public bool Unmasked { get; init; }

    /// <summary>
    /// A fused attention's head widths, at which the family's head-size factors (<see cref="Hardware.AttentionHeadSizes"/>)
    /// read; the curves' own 128 for any other kernel.
    /// </summary>
    public Hardware.AttentionHeadSize HeadSize { get; init; } = Hardware.AttentionHeadSize.Reference;

    /// <summary>
    /// Whether a multiply runs in BF16 whatever the job's low-precision format (<see cref="KernelCost.Bf16PeakRate"/>):
    /// the output head, which Megatron-Core builds as a plain tensor-parallel linear layer outside Transformer Engine's
    /// FP8 autocast, and which FP8 recipes keep in higher precision (DeepSeek-V3 lists it among the modules it does).
    /// </summary>
    public bool KeptInBf16 { get; init; }

    /// <summary>Whether a low-precision recipe runs the kernel at the BF16 rate: fused attention, and the multiplies <see cref="KeptInBf16"/>.</summary>
    public bool RunsAtBf16Rate => Kind == KernelKind.FusedAttention || KeptInBf16;

    private readonly Parallelism.RecomputeModules modules;

    /// <summary>
    /// The recompute modules the kernel belongs to (<see cref="Parallelism.RecomputeModules"/>): selective recompute
    /// replays it if it names one. The attention core and the expert block follow from <see cref="Region"/>; a
    /// kernel's own modules are set on top.
    /// </summary>
    public Parallelism.RecomputeModules Modules
    {
        get => modules | Region switch
        {
            KernelRegion.AttentionCore => Parallelism.RecomputeModules.CoreAttention,
            KernelRegion.Experts => Parallelism.RecomputeModules.Experts,
            _ => Parallelism.RecomputeModules.None,
        };
        init => modules = value;
    }

    /// <summary>Work of all the runs together.</summary>
    public Flops TotalWork => Work * Repeats;

    /// <summary>Memory traffic of all the runs together.</summary>
    public Bytes TotalTraffic => Traffic * Repeats;
}
