using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Memory;

/// <summary>
/// Weights one chip holds on the first, a middle and the last pipeline stage: its share of the stage's layers
/// (<see cref="PipelineLayers"/>), plus the vocabulary-parallel embedding on the first stage and the output head on the
/// last. With tied embeddings and more than one stage, the last stage keeps its own copy of the embedding for the head
/// (Megatron-LM).
/// </summary>
/// <param name="First">Parameters per chip on the first stage.</param>
/// <param name="Middle">Parameters per chip on a middle stage (the first stage's figure when there is no middle).</param>
/// <param name="Last">Parameters per chip on the last stage.</param>
public readonly record struct StageParameters(double First, double Middle, double Last)
{
    /// <summary>The largest of the three: what gradient reduction and the optimizer wait for.</summary>
    public double Heaviest => Math.Max(Middle, Math.Max(First, Last));

    /// <summary>The parameters of <paramref name="model"/> laid out by <paramref name="plan"/>.</summary>
    public static StageParameters Of(ModelArchitecture model, ParallelPlan plan)
    {
        var tensor = plan.TensorParallelism;
        var pipeline = plan.PipelineParallelism;
        var perLayer = model.ParametersPerLayerPerRank(tensor);
        var stages = PipelineLayers.Of(model.Layers, pipeline);
        var embedding = model.EmbeddingParameters / tensor;
        var head = (pipeline == 1 && model.TiedEmbeddings ? 0 : (double)model.VocabularySize * model.HiddenSize) / tensor;
        if (pipeline == 1)
        {
            var all = (model.Layers * perLayer) + embedding + head;
            return new StageParameters(all, all, all);
        }

        var first = (stages.First * perLayer) + embedding;
        return new StageParameters(first, pipeline > 2 ? stages.Middle * perLayer : first, (stages.Last * perLayer) + head);
    }
}
