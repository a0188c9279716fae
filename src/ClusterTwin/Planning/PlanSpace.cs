using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Planning;

/// <summary>
/// The layouts a search considers for one cluster, model and job: every combination of tensor, context, pipeline and virtual
/// stages, micro-batch, sequence parallelism, recompute policy and ZeRO stage, with data parallelism taking the chips
/// that remain. Tensor parallelism stays inside one system (its scale-up domain); any pipeline depth up to the layer
/// count, with uneven first and last stages where the layers do not divide (<see cref="PipelineLayers"/>); virtual
/// stages that divide the most loaded rank's layers; context parallelism in powers of two whose chunks divide the
/// sequence (flash attention only), each above 1 with every context exchange (ring, all-gather, and all-to-all where
/// tensor x context splits the heads); micro-batches that divide the global batch; the scenario's pipeline schedule, or
/// with <see cref="PlanPins.SearchesSchedules"/> each schedule where it runs. Activation offloading is not a
/// dimension of the space: a layout offloads what the pins say, or none, and the search offloads where that fits.
/// </summary>
public sealed class PlanSpace
{
    private static readonly RecomputePolicy[] Policies = [RecomputePolicy.None, RecomputePolicy.Selective, RecomputePolicy.Full];
    private static readonly int[] ZeroStages = [0, 1, 2, 3];
    private static readonly ContextCommunication[] Exchanges = [ContextCommunication.Ring, ContextCommunication.AllGather, ContextCommunication.AllToAll];
    private static readonly PipelineScheduleKind[] Schedules = [PipelineScheduleKind.OneForwardOneBackward, PipelineScheduleKind.ZeroBubble, PipelineScheduleKind.DualPipe];

    /// <summary>The largest context-parallel degree searched (Megatron-Core's published long-sequence runs reach 32).</summary>
    public const int MaximumContextParallelism = 64;

    private readonly int[] tensorChoices;
    private readonly int[] contextChoices;
    private readonly ContextCommunication[] exchangeChoices;
    private readonly int[] expertChoices;
    private readonly int[] pipelineChoices;
    private readonly int[] virtualChoices;
    private readonly int[] microBatchChoices;
    private readonly bool[] sequenceChoices;
    private readonly RecomputePolicy[] recomputeChoices;
    private readonly int[] zeroChoices;
    private readonly PipelineScheduleKind[] scheduleChoices;
    private readonly Cluster cluster;
    private readonly ModelArchitecture model;
    private readonly TrainingJob job;
    private readonly PlanPins pins;

    /// <summary>The space for <paramref name="cluster"/>, <paramref name="model"/> and <paramref name="job"/> under <paramref name="pins"/>.</summary>
    public PlanSpace(Cluster cluster, ModelArchitecture model, TrainingJob job, PlanPins pins)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(pins);
        (this.cluster, this.model, this.job, this.pins) = (cluster, model, job, pins);
        tensorChoices = Pinned(pins.TensorParallelism) ?? Divisors(cluster.System.Chips.Value);
        contextChoices = Pinned(pins.ContextParallelism) ?? ContextDegrees(job);
        exchangeChoices = pins.ContextCommunication is { } exchange ? [exchange] : Exchanges;
        expertChoices = Pinned(pins.ExpertParallelism) ?? (model.MixtureOfExperts is { } experts ? Divisors(experts.Routed) : [1]);
        pipelineChoices = Pinned(pins.PipelineParallelism) ?? [.. Enumerable.Range(1, model.Layers)];
        virtualChoices = Pinned(pins.VirtualStages) ?? [.. Enumerable.Range(1, model.Layers)];
        microBatchChoices = Pinned(pins.MicroBatchSize) ?? Divisors(job.GlobalBatchSize);
        sequenceChoices = pins.SequenceParallelism is { } sequence ? [sequence] : [false, true];
        recomputeChoices = pins.Recompute is { } recompute ? [recompute] : Policies;
        zeroChoices = Pinned(pins.ZeroStage) ?? ZeroStages;
        scheduleChoices = pins.SearchesSchedules ? Schedules : [pins.Settings.Schedule];
    }

    /// <summary>How many combinations the space spans before any is pruned (the exchange only where context parallelism is above 1).</summary>
    public long Size => (long)tensorChoices.Length * ContextAndExchangeChoices * expertChoices.Length * pipelineChoices.Length * virtualChoices.Length * microBatchChoices.Length *
                        sequenceChoices.Length * recomputeChoices.Length * zeroChoices.Length * scheduleChoices.Length;

    private long ContextAndExchangeChoices => contextChoices.Count(context => context == 1) + ((long)contextChoices.Count(context => context > 1) * exchangeChoices.Length);

    /// <summary>
    /// The combinations that are layouts at all, in enumeration order: degrees that divide the chips, the layers and the
    /// batch, as <see cref="PlanChecks"/> requires, and no sequence parallelism without tensor parallelism (the same
    /// layout twice). Made as they are read, so a search holds none but those it keeps.
    /// </summary>
    public IEnumerable<ParallelPlan> ValidLayouts()
    {
        foreach (var shape in Shapes())
        {
            foreach (var recompute in recomputeChoices)
            {
                foreach (var zero in zeroChoices)
                {
                    yield return pins.Settings with
                    {
                        TensorParallelism = shape.Tensor, PipelineParallelism = shape.Pipeline, DataParallelism = shape.Data, MicroBatchSize = shape.MicroBatch,
                        VirtualStages = shape.Stages, SequenceParallelism = shape.Sequence, Recompute = recompute, ZeroStage = zero,
                        ContextParallelism = shape.Context, ContextCommunication = shape.Exchange, ExpertParallelism = shape.Expert,
                        OffloadedLayers = pins.OffloadedLayers ?? 0, Schedule = shape.Schedule,
                    };
                }
            }
        }
    }

    /// <summary>
    /// How many layouts <see cref="ValidLayouts"/> gives, counting no further than <paramref name="stopAfter"/>: a search
    /// asks whether the space is small enough to search whole before it simulates any. Every recompute policy and ZeRO
    /// stage goes with every shape, so the count walks the shapes alone and makes no layout.
    /// </summary>
    public long CountValidLayouts(long stopAfter)
    {
        var perShape = (long)recomputeChoices.Length * zeroChoices.Length;
        var count = 0L;
        using var shapes = Shapes().GetEnumerator();
        while (count < stopAfter && shapes.MoveNext())
        {
            count += perShape;
        }

        return Math.Min(count, stopAfter);
    }

    /// <summary>How many values each searched dimension takes (a pinned one, one), widest first: what to pin when the space is too large.</summary>
    public IEnumerable<(string Field, int Choices)> Breadth() =>
        new (string Field, int Choices)[]
        {
            ("tensor", tensorChoices.Length), ("context", contextChoices.Length), ("context_communication", exchangeChoices.Length),
            ("expert", expertChoices.Length), ("pipeline", pipelineChoices.Length), ("virtual_stages", virtualChoices.Length),
            ("micro_batch", microBatchChoices.Length), ("sequence_parallel", sequenceChoices.Length), ("recompute", recomputeChoices.Length),
            ("zero", zeroChoices.Length), ("schedule", scheduleChoices.Length),
        }.Where(dimension => dimension.Choices > 1).OrderByDescending(dimension => dimension.Choices);

    /// <summary>
    /// A layout's degrees, stages, micro-batch and sequence parallelism, in enumeration order: each goes with every
    /// recompute policy and ZeRO stage the space holds, which no divisibility rule constrains.
    /// </summary>
    private IEnumerable<LayoutShape> Shapes()
    {
        var chips = cluster.ChipCount;
        foreach (var tensor in tensorChoices)
        {
            if (!TensorFits(tensor))
            {
                continue;
            }

            foreach (var context in contextChoices)
            {
                foreach (var pipeline in pipelineChoices)
                {
                    var modelParallel = (long)tensor * context * pipeline;
                    var placement = PipelineLayers.Of(model.Layers, pins.Settings with { PipelineParallelism = pipeline });
                    if (chips % modelParallel != 0 || chips / modelParallel > int.MaxValue || !placement.Places)
                    {
                        continue;
                    }

                    var data = (int)(chips / modelParallel);
                    if (pins.DataParallelism is { } pinned && pinned != data)
                    {
                        continue;
                    }

                    // Without context parallelism there is no exchange: such layouts carry the default, ring.
                    foreach (var exchange in context > 1 ? exchangeChoices : [ContextCommunication.Ring])
                    {
                        if (exchange == ContextCommunication.AllToAll && !PlanChecks.AllToAllSplitsHeads(model, tensor * cluster.Chip.Ranks, context))
                        {
                            continue;
                        }

                        foreach (var expert in expertChoices)
                        {
                            if ((long)tensor * context * data % expert != 0)
                            {
                                continue;
                            }

                            foreach (var shape in Stages(placement, new LayoutShape(tensor, context, exchange, expert, pipeline, data, 1, 1, false)))
                            {
                                yield return shape;
                            }
                        }
                    }
                }
            }
        }
    }

    /// <summary>The virtual stages, micro-batches, schedules and sequence parallelism that go with <paramref name="degrees"/>.</summary>
    private IEnumerable<LayoutShape> Stages(PipelineLayers placement, LayoutShape degrees)
    {
        foreach (var stages in virtualChoices)
        {
            if ((stages > 1 && degrees.Pipeline == 1) || !placement.Holds(stages))
            {
                continue;
            }

            foreach (var microBatch in microBatchChoices)
            {
                var replicaBatch = (long)degrees.Data * microBatch;
                if (job.GlobalBatchSize % replicaBatch != 0 || (stages > 1 && job.GlobalBatchSize / replicaBatch % degrees.Pipeline != 0))
                {
                    continue;
                }

                foreach (var schedule in scheduleChoices)
                {
                    // A schedule runs where its plan checks allow; searched, the others only where there is a pipeline
                    // to schedule (without one they are 1F1B again).
                    if (PipelineScheduleKeys.Problem(schedule, degrees.Pipeline, stages, job.GlobalBatchSize / replicaBatch) is not null
                        || (pins.SearchesSchedules && schedule != PipelineScheduleKind.OneForwardOneBackward && degrees.Pipeline == 1))
                    {
                        continue;
                    }

                    foreach (var sequence in sequenceChoices)
                    {
                        if ((sequence && degrees.Tensor == 1) || (!sequence && degrees.Tensor > 1 && model.MixtureOfExperts is not null))
                        {
                            continue;
                        }

                        // Without a pipeline there is nothing to schedule: such a layout is 1F1B whatever was asked.
                        yield return degrees with { Stages = stages, MicroBatch = microBatch, Sequence = sequence, Schedule = degrees.Pipeline == 1 ? PipelineScheduleKind.OneForwardOneBackward : schedule };
                    }
                }
            }
        }
    }

    /// <summary>Why the space holds no layout at all: what the pins and the shapes leave.</summary>
    public string EmptyReason()
    {
        var tensors = tensorChoices.Where(TensorFits).ToArray();
        if (tensors.Length == 0)
        {
            var ranks = cluster.Chip.Ranks > 1 ? $" (times the {cluster.Chip.Ranks} ranks each chip runs)" : string.Empty;
            return $"no tensor-parallel degree among {string.Join(", ", tensorChoices)}{ranks} divides the {model.AttentionHeads} heads, the feed-forward size {model.FeedForwardSize} and the {model.KeyValueHeads} key-value heads";
        }

        if (pins.ContextCommunication == ContextCommunication.AllToAll && contextChoices.All(context => context == 1 || tensors.All(tensor => !PlanChecks.AllToAllSplitsHeads(model, tensor * cluster.Chip.Ranks, context))))
        {
            return $"the all-to-all context exchange needs tensor x context to divide the {model.AttentionHeads} attention heads and the {model.KeyValueHeads} key-value heads, which no tensor degree ({string.Join(", ", tensors)}) and context degree ({string.Join(", ", contextChoices.Where(context => context > 1))}) does: name context_communication ring or all-gather, or leave it to the search";
        }

        return $"no combination of tensor parallelism ({string.Join(", ", tensors)}), context parallelism ({string.Join(", ", contextChoices)}), a pipeline depth that places the {model.Layers} layers, and a micro-batch that divides the global batch of {job.GlobalBatchSize} per data-parallel replica fills the {cluster.ChipCount} chips{(pins.PinsAny ? " under the pinned values" : string.Empty)}";
    }

    private bool TensorFits(int tensor) => PlanChecks.TensorSplits(model, (long)tensor * cluster.Chip.Ranks);

    private static int[]? Pinned(int? value) => value is { } pinned ? [pinned] : null;

    /// <summary>
    /// Context-parallel degrees worth trying: 1, and under flash attention every power of two up to
    /// <see cref="MaximumContextParallelism"/> whose two chunks per rank divide the sequence.
    /// </summary>
    private static int[] ContextDegrees(TrainingJob job)
    {
        var degrees = new List<int> { 1 };
        for (var degree = 2; degree <= MaximumContextParallelism && job.Attention == AttentionKernel.Flash; degree *= 2)
        {
            if (job.SequenceLength % (2 * degree) == 0)
            {
                degrees.Add(degree);
            }
        }

        return [.. degrees];
    }

    /// <summary>The divisors of <paramref name="value"/>, ascending.</summary>
    public static int[] Divisors(int value)
    {
        var low = new List<int>();
        var high = new List<int>();
        for (var candidate = 1; (long)candidate * candidate <= value; candidate++)
        {
            if (value % candidate == 0)
            {
                low.Add(candidate);
                if (candidate != value / candidate)
                {
                    high.Add(value / candidate);
                }
            }
        }

        high.Reverse();
        return [.. low, .. high];
    }

    /// <summary>A layout but its recompute policy and ZeRO stage.</summary>
    private readonly record struct LayoutShape(int Tensor, int Context, ContextCommunication Exchange, int Expert, int Pipeline, int Data, int Stages, int MicroBatch, bool Sequence,
        PipelineScheduleKind Schedule = PipelineScheduleKind.OneForwardOneBackward);
}
