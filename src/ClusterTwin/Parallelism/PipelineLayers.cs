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

    /// <summary>Whether the depth places the layers: every rank at least one, and at most one short on each end.</summary>
    public bool Places => Math.Min(First, Last) >= 1 && Heaviest - First <= 1 && Heaviest - Last <= 1;

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
    public bool Holds(int virtualStages) => Places && virtualStages >= 1 && Heaviest % virtualStages == 0 && Math.Min(First, Last) >= virtualStages;

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
