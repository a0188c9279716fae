using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Workloads;

/// <summary>
/// A training framework as data (Megatron-Core, NeuronX Distributed, MaxText): what its software adds to the
/// roofline of the kernels it runs: the host's time per launch of one expert's multiply in a grouped expert layer,
/// which an eager framework pays for every local expert and a compiled one does not, and how much of its expert
/// all-to-alls it hides behind another micro-batch's computation where the plan asks for that overlap.
/// </summary>
/// <remarks>
/// An eager PyTorch framework runs a mixture-of-experts layer's grouped multiply as one multiply per local expert,
/// each with its own host calls (Transformer Engine's grouped linear splits the input, allocates the output and
/// quantizes per expert before each cuBLAS call), after the token dispatcher has synchronized with the device to read
/// how many tokens each expert received. The host then cannot run ahead of the device, so each expert multiply takes
/// at least the host's time to issue it: <c>max(roofline, launch)</c>.
/// </remarks>
public sealed record TrainingFramework
{
    /// <summary>The framework a scenario gets when neither it nor the catalogue names one: kernels cost their roofline alone.</summary>
    public static TrainingFramework None { get; } = new()
    {
        Id = "none",
        Name = "none (kernels at their roofline)",
        Provenance = "no framework named: no host cost is charged, and an overlap the plan asks for is the ideal one",
        ExpertOverlap = ExpertOverlap.Ideal,
    };

    /// <summary>The id scenarios name it by.</summary>
    public required string Id { get; init; }

    /// <summary>Its name in reports.</summary>
    public required string Name { get; init; }

    /// <summary>Where its figures come from.</summary>
    public required string Provenance { get; init; }

    /// <summary>
    /// The host's time to launch one expert's multiply of a grouped expert layer: each such multiply (forward, and
    /// each of the backward's two) takes at least this long. Zero for a framework that compiles the step into one graph.
    /// </summary>
    public Duration ExpertLaunch { get; init; }

    /// <summary>
    /// The host's added time per expert multiply whose operands are in a scaled format (FP8, MXFP8, NVFP4): the
    /// per-expert quantization calls before each multiply.
    /// </summary>
    public Duration ExpertQuantizeLaunch { get; init; }

    /// <summary>
    /// The least time of one expert multiply of <paramref name="job"/>: the launch, and the quantization where its
    /// format is scaled; nothing where whole layers run as CUDA graphs (<see cref="CudaGraphs.WholeLayers"/>).
    /// </summary>
    public Duration ExpertLaunchFor(TrainingJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        if (job.CudaGraphs == CudaGraphs.WholeLayers)
        {
            return Duration.Zero;
        }

        return job.CastsMultiplyInputs ? ExpertLaunch + ExpertQuantizeLaunch : ExpertLaunch;
    }

    /// <summary>
    /// How many times longer an expert layer's routing (the router's softmax and top-k, the token permutation and
    /// unpermutation) takes in this framework's unfused path than the fused kernels' traffic the engine counts, for a
    /// run that does not use the fused kernels (<see cref="TrainingJob.FusedTokenPermutation"/> false); null where not
    /// measured. Megatron-Core's: its PyTorch path without <c>moe_permute_fusion</c>, timed on a Hopper GPU.
    /// </summary>
    public double? UnfusedTokenRouting { get; init; }

    /// <summary>
    /// The factor on <paramref name="job"/>'s routing kernels: 1 where it permutes with fused kernels (or the framework
    /// has no measured figure, which makes the plan invalid), else <see cref="UnfusedTokenRouting"/>.
    /// </summary>
    public double UnfusedTokenRoutingFor(TrainingJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.FusedTokenPermutation ? 1 : UnfusedTokenRouting ?? 1;
    }

    /// <summary>The band's ends for <see cref="UnfusedTokenRouting"/>, where timed; null otherwise.</summary>
    public UnfusedTokenRoutingRange? UnfusedTokenRoutingRange { get; init; }

    /// <summary>The least and the most <see cref="UnfusedTokenRouting"/> a catalogue may hold: below 1 the unfused path would beat the fused kernels.</summary>
    public const double LeastUnfusedTokenRouting = 1, MostUnfusedTokenRouting = 100;

    /// <summary>This framework with both expert launch times multiplied by <paramref name="factor"/> (the band's ends, a fit's trial).</summary>
    public TrainingFramework WithExpertLaunchesScaled(double factor) =>
        this with { ExpertLaunch = ExpertLaunch * factor, ExpertQuantizeLaunch = ExpertQuantizeLaunch * factor };

    /// <summary>
    /// What the framework keeps of a low-precision multiply's input for the backward pass: the cast copy (Transformer
    /// Engine) or the BF16 input (torchao's float8 linear, the default for a framework file that does not say).
    /// </summary>
    public SavedMultiplyInputs SavedMultiplyInputs { get; init; }

    /// <summary>
    /// Whether the framework offloads activations to the host on the schedule ClusterTwin models (Transformer Engine's
    /// offload context, <c>Engines.Analytical.OffloadSchedule</c>); a plan that offloads is invalid under one that does not.
    /// </summary>
    public bool OffloadsActivations { get; init; }

    /// <summary>
    /// Whether the framework overlaps pipeline sends with the next model chunk's computation under the interleaved
    /// schedule (Megatron-Core's <c>overlap_p2p_comm</c>, which Megatron-LM, NeMo and Megatron-Bridge turn on whenever
    /// there are virtual stages): the default of a plan's <c>overlap_pipeline_communication</c>.
    /// </summary>
    public bool OverlapsInterleavedPipelineSends { get; init; }

    /// <summary>
    /// How the framework overlaps expert all-to-alls with another micro-batch's computation; null when it does not,
    /// and a plan that asks for the overlap (<c>overlap_expert_communication</c>) is then invalid under it.
    /// </summary>
    public ExpertOverlap? ExpertOverlap { get; init; }

    /// <summary>
    /// How much slower a step's kernels run under this framework when the plan keeps its activations for the backward
    /// pass (no recompute, or selective) than the kernel model that fits its runs with full recompute and other
    /// frameworks' runs: a factor of at least 1, fitted over its published runs without recompute
    /// (<c>clustertwin calibrate --framework</c>). Null for a framework that has no such constant: one whose runs
    /// without recompute are the ones its chips' levels are fitted on (Megatron-Core on Hopper and Blackwell), where
    /// the factor would be 1 by construction. Which part of the software causes it is not measured (docs/calibration.md).
    /// </summary>
    public double? NoRecomputeSlowdown { get; init; }

    /// <summary>How <see cref="NoRecomputeSlowdown"/> was fitted; null where it was not.</summary>
    public FrameworkFit? NoRecomputeFit { get; init; }

    /// <summary>What it keeps of the weights under full sharding (ZeRO-3); by default a compute-precision shard beside the FP32 master.</summary>
    public FullyShardedWeights FullyShardedWeights { get; init; } = FullyShardedWeights.ComputeAndMaster;

    /// <summary>
    /// The precision its data-parallel collectives reduce gradients in unless the job names one
    /// (<see cref="TrainingJob.GradientReduction"/>); FP32 by default, as Megatron-Core reduces under BF16.
    /// </summary>
    public GradientReduction GradientReduction { get; init; } = GradientReduction.Fp32;

    /// <summary>The precision <paramref name="job"/>'s gradients are reduced in: the job's own, or this framework's.</summary>
    public GradientReduction GradientReductionFor(TrainingJob job)
    {
        ArgumentNullException.ThrowIfNull(job);
        return job.GradientReduction ?? GradientReduction;
    }

    /// <summary>
    /// The channels its data-parallel collectives run on the chip's multiprocessors (<see cref="Workloads.CollectiveChannels"/>):
    /// hidden behind computation, a collective still slows it by their share. Null where the collectives take none of
    /// the compute (Trainium's collective-communication cores) or none is established (the file has no block).
    /// </summary>
    public CollectiveChannels? CollectiveChannels { get; init; }

    /// <summary>Chip vendors (as the chip files write them) whose scenarios run on this framework unless they name another.</summary>
    public ImmutableArray<string> DefaultForVendors { get; init; } = [];

    /// <summary>How <see cref="ExpertLaunch"/> and <see cref="ExpertQuantizeLaunch"/> were fitted; null when they were not.</summary>
    public FrameworkFit? Fit { get; init; }

    /// <summary>How far the fitted runs' own least times stray from the fitted ones: the band's spread of the launch times; null when not fitted, or when no fitted run's launches bind.</summary>
    public ExpertLaunchSpread? ExpertLaunchSpread { get; init; }
}
