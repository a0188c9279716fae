using ClusterTwin.Workloads;

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
    /// end; an explicit placement's counts must add up to the model's layers.
    /// </summary>
    public bool Places => Math.Min(First, Math.Min(Middle, Last)) >= 1 &&
        (Explicit ? First + Last + (Middle * Math.Max(0, Pipeline - 2)) == Layers : Heaviest - First <= 1 && Heaviest - Last <= 1);

    /// <summary>Whether the placement came from the plan's explicit first- and last-rank counts.</summary>
    public bool Explicit { get; private init; }

    /// <summary>For an explicit placement, the model's layers (0 otherwise).</summary>
    private int Layers { get; init; }

    /// <summary>The pipeline depth (0 for a placement made without it).</summary>
    private int Pipeline { get; init; }

    /// <summary>
    /// Places the layers of <paramref name="layers"/> as <paramref name="plan"/> says: by its explicit first- and
    /// last-rank counts where it gives them (Megatron-LM's <c>--decoder-first-pipeline-num-layers</c>,
    /// <c>--decoder-last-pipeline-num-layers</c> and <c>pipeline_model_parallel_layout</c>), the ranks without a count
    /// sharing the rest evenly, as Megatron-LM does; otherwise by the default rule of <see cref="Of(int, int)"/>. Check
    /// <see cref="Places"/>.
    /// </summary>
    public static PipelineLayers Of(int layers, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var pipeline = plan.PipelineParallelism;
        if ((plan.FirstStageLayers is null && plan.LastStageLayers is null) || pipeline == 1)
        {
            return Of(layers, pipeline);
        }

        var counted = (plan.FirstStageLayers is null ? 0 : 1) + (plan.LastStageLayers is null ? 0 : 1);
        var sharing = pipeline - counted;
        var middle = sharing > 0 ? (layers - (plan.FirstStageLayers ?? 0) - (plan.LastStageLayers ?? 0)) / sharing : 0;
        var (first, last) = (plan.FirstStageLayers ?? middle, plan.LastStageLayers ?? middle);
        return new PipelineLayers(first, pipeline == 2 ? Math.Max(first, last) : middle, last) { Explicit = true, Layers = layers, Pipeline = pipeline };
    }

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
        return new PipelineLayers(heaviest - ((shortfall + 1) / 2), heaviest, heaviest - (shortfall / 2)) { Pipeline = pipeline };
    }

    /// <summary>
    /// Whether <paramref name="virtualStages"/> chunks per rank work: the depth places the layers, the chunks divide the
    /// most loaded rank's layers (as Megatron-LM's interleaved schedule requires), every middle rank has a layer per
    /// chunk, and an end rank a layer in every chunk but one: its first (or last) chunk may hold the embedding (or the
    /// output head and loss) alone, as Megatron-LM's <c>--account-for-embedding-in-pipeline-split</c> and
    /// <c>--account-for-loss-in-pipeline-split</c> place them when they count them as a layer each. So Qwen3-235B's
    /// 94 layers ran as 96 over 32 ranks of 3 chunks (the Megatron-MoE model zoo's H100 table). An explicit placement
    /// is a layout the user wrote chunk by chunk, so its chunks need not be equal: only the layers per chunk are
    /// checked, by the same rule. On two ranks both may be one layer short of whole chunks, the first chunk the
    /// embedding's and the last the loss's (48 layers as 50 on two ranks of 5 chunks).
    /// </summary>
    public bool Holds(int virtualStages) => Places && virtualStages >= 1 && (Explicit
        ? Middle >= virtualStages && Math.Min(First, Last) >= virtualStages - 1
        : (Heaviest % virtualStages == 0 && Middle >= virtualStages && Math.Min(First, Last) >= virtualStages - 1) ||
          (Pipeline == 2 && (Heaviest + 1) % virtualStages == 0 && First == Heaviest && Last == Heaviest && Heaviest >= virtualStages - 1));

    /// <summary>
    /// Whether the rank holding <paramref name="rankLayers"/> under <paramref name="virtualStages"/> chunks has one
    /// chunk a layer short of the others (the embedding's or the loss's, <see cref="Holds"/>): its layers fall one short
    /// of whole chunks. False for an explicit placement, whose chunks the model does not know one by one.
    /// </summary>
    public bool ShortOuterChunk(int rankLayers, int virtualStages) =>
        !Explicit && virtualStages > 1 && rankLayers % virtualStages != 0 && (rankLayers + 1) % virtualStages == 0;

    /// <summary>
    /// The first layer of the last middle rank (rank <paramref name="pipeline"/> - 2) in model order: with the second
    /// rank (starting at <see cref="First"/>), the middle rank holding the fewest of a model's leading layers. Placed as
    /// without interleaving: with virtual stages a rank's chunks spread over the model, and the leading layers still
    /// fall on the first ranks.
    /// </summary>
    public int LastMiddleStart(int pipeline) => First + ((Math.Max(1, pipeline - 2) - 1) * Middle);

    /// <summary>
    /// The layers rank <paramref name="rank"/> of <paramref name="pipeline"/> holds of a model's <paramref name="layers"/>:
    /// the first <see cref="First"/>, the last <see cref="Last"/>, each middle rank its <see cref="Middle"/> in turn.
    /// </summary>
    public (int Start, int Count) OfRank(int rank, int pipeline, int layers) => rank == 0 ? (0, First)
        : rank == pipeline - 1 ? (layers - Last, Last)
        : (First + ((rank - 1) * Middle), Middle);

    /// <summary>
    /// The fewest and the most dense layers a middle rank (ranks 1 to <paramref name="pipeline"/> - 2) holds of
    /// <paramref name="model"/>'s: a stage's cost is linear in that count, so the slowest and the heaviest middle rank
    /// is one of the two. With the dense layers leading, the second rank has the most and the last middle rank the
    /// fewest; with expert layers interleaved the counts alternate, so every middle rank is counted.
    /// </summary>
    public (int Fewest, int Most) MiddleDenseLayers(ModelArchitecture model, int pipeline)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.MixtureOfExperts is not { Interval: > 1 })
        {
            return (model.DenseLayersIn(LastMiddleStart(pipeline), Middle), model.DenseLayersIn(First, Middle));
        }

        var (fewest, most) = (int.MaxValue, int.MinValue);
        for (var rank = 1; rank <= Math.Max(1, pipeline - 2); rank++)
        {
            var dense = model.DenseLayersIn(First + ((rank - 1) * Middle), Middle);
            (fewest, most) = (Math.Min(fewest, dense), Math.Max(most, dense));
        }

        return (fewest, most);
    }

    /// <summary>The placement in words: "7, 8, ..., 8, 7 layers per rank".</summary>
    public string Describe(int pipeline) => pipeline switch
    {
        1 => $"{First} layers on one rank",
        2 => $"{First} and {Last} layers per rank",
        _ => $"{First}, {Middle}, ..., {Middle}, {Last} layers per rank",
    };
}
