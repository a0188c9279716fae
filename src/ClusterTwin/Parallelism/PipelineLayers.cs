namespace ClusterTwin.Parallelism;

/// <summary>
/// How the layers fall on the pipeline ranks: evenly, or, where they do not divide, with the first and the last rank
/// (which also hold the embedding and the output head) one layer short each, as Llama 3 405B's 126 layers ran on 16
/// stages (Meta, "The Llama 3 Herd of Models", 2024, section 3.3.2) and as Megatron-LM's
/// <c>--decoder-first-pipeline-num-layers</c> and <c>--decoder-last-pipeline-num-layers</c> allow. A shortfall of one
/// falls on the first rank, which holds the most micro-batches in flight. A depth that would need more than that
/// (96 layers on 10 ranks) is not a layout.
/// </summary>
/// <param name="First">Layers on the first rank.</param>
/// <param name="Middle">Layers on each middle rank (the most any rank holds).</param>
/// <param name="Last">Layers on the last rank.</param>
public readonly record struct PipelineLayers(int First, int Middle, int Last)
{
    /// <summary>The most layers any rank holds.</summary>
    public int Heaviest => Math.Max(Middle, Math.Max(First, Last));

    /// <summary>
    /// Whether the depth places the layers: every rank at least one, and by the default rule at most one short on each
    /// end; an explicit placement also needs its counts to add up.
    /// </summary>
    public bool Places => Math.Min(First, Math.Min(Middle, Last)) >= 1 && (Explicit ? Sums : Heaviest - First <= 1 && Heaviest - Last <= 1);

    /// <summary>
    /// Places the layers of <paramref name="layers"/> as <paramref name="plan"/> says: by its explicit first- and
    /// last-rank counts where it gives them (Megatron-LM's <c>--decoder-first-pipeline-num-layers</c>,
    /// <c>--decoder-last-pipeline-num-layers</c> and <c>pipeline_model_parallel_layout</c>), evenly over the rest;
    /// otherwise by the default rule of <see cref="Of(int, int)"/>. Check <see cref="Places"/>.
    /// </summary>
    public static PipelineLayers Of(int layers, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var pipeline = plan.PipelineParallelism;
        if (plan.FirstStageLayers is null && plan.LastStageLayers is null)
        {
            return Of(layers, pipeline);
        }

        var even = Of(layers, pipeline);
        var first = plan.FirstStageLayers ?? even.First;
        var last = pipeline == 1 ? first : plan.LastStageLayers ?? even.Last;
        if (pipeline <= 2)
        {
            return pipeline == 1 ? new PipelineLayers(layers, layers, layers) : new PipelineLayers(first, Math.Max(first, last), last) { Explicit = true, Sums = first + last == layers };
        }

        var rest = layers - first - last;
        var middle = rest / (pipeline - 2);
        return new PipelineLayers(first, middle, last) { Explicit = true, Sums = rest >= 0 && rest % (pipeline - 2) == 0 };
    }

    /// <summary>Whether the placement came from the plan's explicit first- and last-rank counts.</summary>
    public bool Explicit { get; private init; }

    /// <summary>For an explicit placement, whether its counts add up to the model's layers with the middle ranks alike.</summary>
    private bool Sums { get; init; } = true;

    /// <summary>Places <paramref name="layers"/> on <paramref name="pipeline"/> ranks; check <see cref="Places"/>.</summary>
    public static PipelineLayers Of(int layers, int pipeline)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pipeline, 1);
        if (pipeline == 1)
        {
            return new PipelineLayers(layers, layers, layers);
        }

        var heaviest = (layers + pipeline - 1) / pipeline;
        var shortfall = (heaviest * pipeline) - layers;
        return new PipelineLayers(heaviest - ((shortfall + 1) / 2), heaviest, heaviest - (shortfall / 2));
    }

    /// <summary>
    /// Whether <paramref name="virtualStages"/> chunks per rank work: the depth places the layers, the chunks divide the
    /// most loaded rank's layers (as Megatron-LM's interleaved schedule requires), and every rank has at least one
    /// layer per chunk.
    /// </summary>
    /// An explicit placement is a layout the user wrote chunk by chunk, so its chunks need not be equal: only every rank's
    /// layer per chunk is checked.
    public bool Holds(int virtualStages) => Places && virtualStages >= 1 && (Explicit || Heaviest % virtualStages == 0) && Math.Min(First, Last) >= virtualStages;

    /// <summary>
    /// The first layer of the last middle rank (rank <paramref name="pipeline"/> - 2) in model order: with the second
    /// rank (starting at <see cref="First"/>), the middle rank holding the fewest of a model's leading layers. Placed as
    /// without interleaving: with virtual stages a rank's chunks spread over the model, and the leading layers still
    /// fall on the first ranks.
    /// </summary>
    public int LastMiddleStart(int pipeline) => First + ((Math.Max(1, pipeline - 2) - 1) * Middle);

    /// <summary>The placement in words: "7, 8, ..., 8, 7 layers per rank".</summary>
    public string Describe(int pipeline) => pipeline switch
    {
        1 => $"{First} layers on one rank",
        2 => $"{First} and {Last} layers per rank",
        _ => $"{First}, {Middle}, ..., {Middle}, {Last} layers per rank",
    };
}
