using ClusterTwin.Parallelism;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Memory;

/// <summary>
/// Weights one chip holds on the first, a middle and the last pipeline stage: its share of the stage's layers
/// (<see cref="PipelineLayers"/>), plus the vocabulary-parallel embedding on the first stage and the output head on the
/// last. With tied embeddings and more than one stage, the last stage keeps its own copy of the embedding for the head
/// (Megatron-LM).
/// </summary>
/// <param name="First">Parameters per chip on the first stage, routed experts apart.</param>
/// <param name="Middle">Parameters per chip on a middle stage (the first stage's figure when there is no middle).</param>
/// <param name="Last">Parameters per chip on the last stage.</param>
/// <param name="FirstExperts">Routed-expert parameters per chip on the first stage (sharded and reduced over the expert replicas).</param>
/// <param name="MiddleExperts">The same on a middle stage.</param>
/// <param name="LastExperts">The same on the last stage.</param>
public readonly record struct StageParameters(double First, double Middle, double Last, double FirstExperts = 0, double MiddleExperts = 0, double LastExperts = 0)
{
    /// <summary>The largest of the three, routed experts apart: what gradient reduction and the optimizer wait for.</summary>
    public double Heaviest => Math.Max(Middle, Math.Max(First, Last));

    /// <summary>The most routed-expert parameters a stage's chip holds.</summary>
    public double HeaviestExperts => Math.Max(MiddleExperts, Math.Max(FirstExperts, LastExperts));

    /// <summary>Parameters of the average pipeline rank over <paramref name="pipeline"/> ranks, shared and experts together.</summary>
    public double Average(int pipeline) => pipeline <= 1
        ? First + FirstExperts
        : (First + FirstExperts + Last + LastExperts + ((Middle + MiddleExperts) * (pipeline - 2))) / pipeline;

    /// <summary>Routed-expert parameters of the average pipeline rank over <paramref name="pipeline"/> ranks.</summary>
    public double AverageExperts(int pipeline) => pipeline <= 1
        ? FirstExperts
        : (FirstExperts + LastExperts + (MiddleExperts * (pipeline - 2))) / pipeline;

    /// <summary>The parameters of <paramref name="model"/> trained by <paramref name="job"/>, laid out by <paramref name="plan"/>.</summary>
    public static StageParameters Of(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(plan);
        var pipeline = plan.PipelineParallelism;
        var stages = PipelineLayers.Of(model.Layers, plan);
        var (embedding, head, prediction) = Ends(model, job, plan);
        (double Shared, double Routed) Layers(int denseLayers, int count) => Rank(model, plan, denseLayers, count);

        if (pipeline == 1)
        {
            var (all, experts) = Layers(model.DenseLayerCount, model.Layers);
            (all, experts) = (all + prediction.Shared, experts + prediction.Routed);
            return new StageParameters(all + embedding + head, all + embedding + head, all + embedding + head, experts, experts, experts);
        }

        var first = Layers(model.DenseLayersIn(0, stages.First), stages.First);
        var middle = first;
        if (pipeline > 2)
        {
            // The middle rank with the most dense layers or the one with the fewest is the heaviest.
            var (fewest, most) = stages.MiddleDenseLayers(model, pipeline);
            var (mostDense, fewestDense) = (Layers(most, stages.Middle), Layers(fewest, stages.Middle));
            middle = mostDense.Shared + mostDense.Routed >= fewestDense.Shared + fewestDense.Routed ? mostDense : fewestDense;
        }

        var last = Layers(model.DenseLayersIn(model.Layers - stages.Last, stages.Last), stages.Last);
        last = (last.Shared + prediction.Shared, last.Routed + prediction.Routed);
        var parameters = new StageParameters(first.Shared + embedding, pipeline > 2 ? middle.Shared : first.Shared + embedding, last.Shared + head,
            first.Routed, middle.Routed, last.Routed);
        return plan.Schedule == PipelineScheduleKind.DualPipe ? parameters.Mirrored(pipeline) : parameters;
    }

    /// <summary>
    /// The parameters under DualPipe, where rank <c>r</c> of <paramref name="pipeline"/> holds stage <c>r</c> and its
    /// mirror <c>p - 1 - r</c>: the end ranks each the first and the last stage, a middle rank two middle ones.
    /// </summary>
    private StageParameters Mirrored(int pipeline)
    {
        var (ends, endExperts) = (First + Last, FirstExperts + LastExperts);
        return pipeline > 2
            ? new StageParameters(ends, 2 * Middle, ends, endExperts, 2 * MiddleExperts, endExperts)
            : new StageParameters(ends, ends, ends, endExperts, endExperts, endExperts);
    }

    /// <summary>
    /// Parameters per chip outside the layers: the vocabulary-parallel embedding (first rank), the output head (last
    /// rank; none of its own where the embedding is tied and one rank holds both) and the multi-token prediction modules
    /// the job trains (last rank), shared and routed.
    /// </summary>
    public static (double Embedding, double Head, (double Shared, double Routed) Prediction) Ends(ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(plan);
        var tensor = plan.TensorParallelism;
        var head = (plan.PipelineParallelism == 1 && model.TiedEmbeddings ? 0 : (double)model.VocabularySize * model.HiddenSize) / tensor;
        var prediction = PredictionModules(model, plan, job.MultiTokenPredictionDepth(model), model.ExpertLayerSharedParametersPerRank(tensor, plan.RanksPerChip),
            model.ParametersPerLayerPerRank(tensor, plan.RanksPerChip), model.ExpertLayerRoutedParametersPerRank(plan.ExpertParallelism));
        return (model.EmbeddingParameters / tensor, head, prediction);
    }

    /// <summary>
    /// Parameters per chip of pipeline rank <paramref name="rank"/> of <paramref name="plan"/>'s, holding the
    /// <paramref name="count"/> layers from <paramref name="start"/>: its layers', with the embedding on the first rank
    /// and the output head and multi-token prediction modules on the last; shared, and routed experts.
    /// </summary>
    public static (double Shared, double Routed) OfRank(ModelArchitecture model, TrainingJob job, ParallelPlan plan, int rank, int start, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var (shared, routed) = Rank(model, plan, model.DenseLayersIn(start, count), count);
        var (embedding, head, prediction) = Ends(model, job, plan);
        shared += rank == 0 ? embedding : 0;
        return rank == plan.PipelineParallelism - 1 ? (shared + head + prediction.Shared, routed + prediction.Routed) : (shared, routed);
    }

    /// <summary>
    /// Parameters per chip of <paramref name="count"/> layers, <paramref name="denseLayers"/> of them dense and the rest
    /// mixtures of experts: all but the routed experts, and the routed experts.
    /// </summary>
    public static (double Shared, double Routed) Rank(ModelArchitecture model, ParallelPlan plan, int denseLayers, int count)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(plan);
        var experts = count - denseLayers;
        return ((denseLayers * model.ParametersPerLayerPerRank(plan.TensorParallelism, plan.RanksPerChip)) + (experts * model.ExpertLayerSharedParametersPerRank(plan.TensorParallelism, plan.RanksPerChip)),
            experts * model.ExpertLayerRoutedParametersPerRank(plan.ExpertParallelism));
    }

    /// <summary>
    /// The multi-token prediction modules the job trains, on the last stage: each one's projection (split by tensor
    /// parallelism), norms and layer; the embedding and head are the main model's.
    /// </summary>
    private static (double Shared, double Routed) PredictionModules(ModelArchitecture model, ParallelPlan plan, int depth, double expertLayerShared, double denseLayer, double routed)
    {
        if (depth == 0)
        {
            return (0, 0);
        }

        var projection = (2.0 * model.HiddenSize * model.HiddenSize / plan.TensorParallelism) + (4.0 * model.HiddenSize);
        return model.MultiTokenPredictionUsesExperts
            ? (depth * (projection + expertLayerShared), depth * routed)
            : (depth * (projection + denseLayer), 0);
    }
}
