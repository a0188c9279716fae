using System.Collections.Immutable;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Serving;

/// <summary>
/// A serving framework (vLLM, SGLang, TensorRT-LLM, AWS Transformers NeuronX) as data: the settings its servers
/// run with unless a scenario says otherwise, and the constants fitted to the published runs that used it
/// (<c>clustertwin calibrate-serving</c>): the time it adds to every layer of every iteration beyond the roofline, the
/// time each request spends in its front end before the chips see it, and a factor on its multiplies' rate.
/// </summary>
public sealed record ServingFramework
{
    /// <summary>The id scenarios name it by.</summary>
    public required string Id { get; init; }

    /// <summary>Its name in reports.</summary>
    public required string Name { get; init; }

    /// <summary>Where its settings come from.</summary>
    public required string Provenance { get; init; }

    /// <summary>Most requests a replica runs at once.</summary>
    public int? MaximumBatch { get; init; }

    /// <summary>Most tokens per iteration.</summary>
    public int? MaximumBatchTokens { get; init; }

    /// <summary>The share of memory for weights and cache.</summary>
    public double? MemoryUtilization { get; init; }

    /// <summary>Decode iterations per scheduling decision.</summary>
    public int? SchedulerSteps { get; init; }

    /// <summary>The share of each request's output the scheduler reserves cache for at admission.</summary>
    public double? OutputReservation { get; init; }

    /// <summary>Whether an iteration decodes and prefills together.</summary>
    public bool? MixedBatches { get; init; }

    /// <summary>
    /// Whether the framework pads the attention heads up to a multiple of its tensor-parallel ranks (Transformers
    /// NeuronX) rather than refusing a degree that does not divide them (vLLM, SGLang, TensorRT-LLM).
    /// </summary>
    public bool PadsHeads { get; init; }

    /// <summary>Time added to each layer of each iteration (fitted).</summary>
    public Duration LayerOverhead { get; init; }

    /// <summary>Time each request spends in the front end before its first token (fitted).</summary>
    public Duration RequestOverhead { get; init; }

    /// <summary>The front end's 99th-percentile time, where it spreads (fitted where published runs measured a P99 first token); null: the median.</summary>
    public Duration? RequestOverheadP99 { get; init; }

    /// <summary>A factor on the multiplies' compute rate against the training-calibrated curves (fitted; 1 where not).</summary>
    public double MatrixScale { get; init; } = 1;

    /// <summary>How <see cref="LayerOverhead"/> was fitted; null when it was not.</summary>
    public FrameworkFit? Fit { get; init; }

    /// <summary>
    /// The constants fitted without each of <see cref="Fit"/>'s cases, by the case's id: <c>clustertwin validate</c>
    /// predicts each case with its own, as a case the fit never saw. Empty where the framework has one case or none.
    /// </summary>
    public ImmutableDictionary<string, ServingFitConstants> HeldOut { get; init; } = ImmutableDictionary<string, ServingFitConstants>.Empty;
}
