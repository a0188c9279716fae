namespace ClusterTwin.Parallelism;

/// <summary>
/// How the layers fall on the pipeline ranks: as evenly as possible, and where they do not divide, the first and the
/// last ranks (which also hold the embedding and the output head) take one layer fewer each, as Llama 3 405B's
/// 126 layers ran on 16 stages (Meta, "The Llama 3 Herd of Models", 2024, section 3.3.2) and Megatron-LM's
/// <c>--decoder-first-pipeline-num-layers</c> and <c>--decoder-last-pipeline-num-layers</c> allow.
/// </summary>
/// <param name="First">Layers on the first rank.</param>
/// <param name="Middle">Layers on each middle rank (equal to the most loaded rank when there are only one or two ranks).</param>
/// <param name="Last">Layers on the last rank.</param>
public readonly record struct PipelineLayers(int First, int Middle, int Last)
{
    /// <summary>The most layers any rank holds.</summary>
    public int Heaviest => Math.Max(Middle, Math.Max(First, Last));

    /// <summary>Places <paramref name="layers"/> on <paramref name="pipeline"/> ranks.</summary>
    public static PipelineLayers Of(int layers, int pipeline)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(pipeline, 1);
        if (pipeline == 1)
        {
            return new PipelineLayers(layers, layers, layers);
        }

        var heaviest = (layers + pipeline - 1) / pipeline;
        var shortfall = (heaviest * pipeline) - layers;
        return new PipelineLayers(heaviest - (shortfall / 2), heaviest, heaviest - shortfall + (shortfall / 2));
    }

    /// <summary>
    /// Whether <paramref name="virtualStages"/> chunks per rank work: they divide the most loaded rank's layers (as
    /// Megatron-LM's interleaved schedule requires), and every rank has at least one layer per chunk.
    /// </summary>
    public bool Holds(int virtualStages) => virtualStages >= 1 && Heaviest % virtualStages == 0 && Math.Min(First, Last) >= virtualStages;
}
