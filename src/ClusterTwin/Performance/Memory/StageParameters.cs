using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Memory;

/// <summary>
/// Weights one chip holds on the first and on the last pipeline stage: its share of the stage's layers, plus the
/// vocabulary-parallel embedding on the first stage and the output head on the last. With tied embeddings and more
/// than one stage, the last stage keeps its own copy of the embedding for the head (Megatron-LM).
/// </summary>
/// <param name="First">Parameters per chip on the first stage.</param>
/// <param name="Last">Parameters per chip on the last stage.</param>
public readonly record struct StageParameters(double First, double Last)
{
    /// <summary>The larger of the two: what gradient reduction and the optimizer wait for.</summary>
    public double Heaviest => Math.Max(First, Last);

    /// <summary>The parameters of <paramref name="model"/> laid out by <paramref name="plan"/>.</summary>
    public static StageParameters Of(ModelArchitecture model, ParallelPlan plan)
    {
        var tensor = plan.TensorParallelism;
        var pipeline = plan.PipelineParallelism;
        var layers = model.Layers / (double)pipeline * model.ParametersPerLayerPerRank(tensor);
        var embedding = model.EmbeddingParameters / tensor;
        var head = (pipeline == 1 && model.TiedEmbeddings ? 0 : (double)model.VocabularySize * model.HiddenSize) / tensor;
        return pipeline == 1
            ? new StageParameters(layers + embedding + head, layers + embedding + head)
            : new StageParameters(layers + embedding, layers + head);
    }
}
