using System.Collections.Immutable;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>One pass as it ran: on which pipeline rank, from when to when, from the step's start.</summary>
public readonly record struct TimelineSpan(int Rank, PipelinePass Pass, Duration Start, Duration End);

/// <summary>A training step replayed pass by pass (<see cref="PipelineTimeline"/>).</summary>
/// <param name="Stages">What was replayed.</param>
/// <param name="Spans">Every pass of every rank, rank by rank in the order each ran them.</param>
/// <param name="Pipeline">From the first forward pass to the last backward pass (and its send).</param>
/// <param name="Busy">Each rank's time in its passes: the rest of <see cref="Pipeline"/> it waits (its bubble) or sends.</param>
/// <param name="Critical">The chain of passes that sets <see cref="Pipeline"/>, and where its time goes.</param>
public sealed record StepTimeline(PipelineStages Stages, ImmutableArray<TimelineSpan> Spans, Duration Pipeline, ImmutableArray<Duration> Busy, CriticalPath Critical)
{
    /// <summary>The step: the pipeline, then what follows it (data-parallel communication, the optimizer), stretched by the chips' power limit.</summary>
    public Duration StepTime => (Pipeline + Stages.AfterPipeline) * Stages.PowerStretch;

    /// <summary>The share of the pipeline's time the busiest rank is not in a pass: the bubble as the slowest rank sees it.</summary>
    public double SlowestRankIdleShare => 1 - (Busy.Max(busy => busy.Seconds) / Pipeline.Seconds);

    /// <summary>The share of the pipeline's time the average rank is not in a pass.</summary>
    public double MeanIdleShare => 1 - (Busy.Average(busy => busy.Seconds) / Pipeline.Seconds);
}
