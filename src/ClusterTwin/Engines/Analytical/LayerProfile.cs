using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Analytical;

/// <summary>What sets an operator's time in the model.</summary>
public enum OperatorBound
{
    /// <summary>Its operations at the efficiency curve's share of the peak rate.</summary>
    Compute,

    /// <summary>Its memory traffic at the memory curve's share of the bandwidth.</summary>
    Memory,

    /// <summary>The host's launch of each run: the chip waits for it (an expert multiply launched per expert).</summary>
    Host,
}

/// <summary>One operator of a layer's forward pass, for one micro-batch on the busiest chip, with its backward.</summary>
/// <param name="Name">What it computes ("query-key-value projection").</param>
/// <param name="Kind">Matrix, fused attention or memory-bound.</param>
/// <param name="Runs">How many times it runs (one per local expert, one per ring step).</param>
/// <param name="Work">The operations of all its runs, forward.</param>
/// <param name="Traffic">The memory traffic of all its runs, forward.</param>
/// <param name="Forward">Its forward time.</param>
/// <param name="Backward">Its backward time.</param>
/// <param name="HostWait">The part of both the chip waits for the host to launch it.</param>
/// <param name="Bound">What sets its time.</param>
/// <param name="Recomputed">Whether the plan's selective recompute replays it in the backward pass.</param>
public sealed record OperatorTime(string Name, KernelKind Kind, int Runs, Flops Work, Bytes Traffic, Duration Forward, Duration Backward, Duration HostWait, OperatorBound Bound, bool Recomputed);

/// <summary>The operators of one kind of layer (or of the embedding, the output head), as the analytical engine costs them.</summary>
/// <param name="Layer">Which layer ("dense layer", "mixture-of-experts layer", "output head and loss (last stage)").</param>
/// <param name="Count">How many of the model's layers are of this kind (the embedding and the head: one).</param>
/// <param name="Operators">Its operators in order.</param>
public sealed record LayerProfile(string Layer, int Count, ImmutableArray<OperatorTime> Operators)
{
    /// <summary>The forward time of all its operators.</summary>
    public Duration Forward => Operators.Aggregate(Duration.Zero, (sum, item) => sum + item.Forward);

    /// <summary>The backward time of all its operators.</summary>
    public Duration Backward => Operators.Aggregate(Duration.Zero, (sum, item) => sum + item.Backward);

    /// <summary>
    /// The layers of <paramref name="scenario"/>'s model, each operator on the busiest chip, for one micro-batch:
    /// what the step's compute is made of, before collectives, recompute, the pipeline schedule and the framework's
    /// slowdown without recompute. Empty for a plan the engine refuses.
    /// </summary>
    public static ImmutableArray<LayerProfile> Of(Scenario scenario)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        var (cluster, model, job) = (scenario.Cluster, scenario.Model, scenario.Job);
        var plan = scenario.Plan.RanksPerChip == cluster.Chip.Ranks ? scenario.Plan : scenario.Plan with { RanksPerChip = cluster.Chip.Ranks };
        if (PlanChecks.Problems(plan, cluster, model, job, scenario.Framework).Count > 0)
        {
            return [];
        }

        var kernels = AnalyticalEngine.KernelCostOf(scenario);
        var local = model.LocalAttentionLayerCount;
        var layers = ImmutableArray.CreateBuilder<LayerProfile>();
        void AddKernels(string name, int count, Kernel[] forward) => layers.Add(new LayerProfile(name, count, [.. forward.Select(kernel => Operator(kernel, kernels, plan))]));
        void Add(string name, int count, bool expertLayer, bool localAttention)
        {
            if (count > 0)
            {
                AddKernels(name, count, LayerKernels.Forward(model, job, plan, expertLayer, averageLoad: false, localAttention));
            }
        }

        AddKernels("embedding (first stage)", 1, LayerKernels.Embedding(model, job, plan));

        // Local-attention layers are spread evenly over the dense and expert layers (the engine's share).
        var localShare = local / (double)model.Layers;
        var (denseLocal, expertLocal) = ((int)Math.Round(model.DenseLayerCount * localShare), (int)Math.Round(model.ExpertLayerCount * localShare));
        Add("dense layer", model.DenseLayerCount - denseLocal, expertLayer: false, localAttention: false);
        Add("dense layer, local attention", denseLocal, expertLayer: false, localAttention: true);
        Add("mixture-of-experts layer", model.ExpertLayerCount - expertLocal, expertLayer: true, localAttention: false);
        Add("mixture-of-experts layer, local attention", expertLocal, expertLayer: true, localAttention: true);
        AddKernels("output head and loss (last stage)", 1, LayerKernels.OutputHead(model, job, plan));
        if (job.MultiTokenPredictionDepth(model) is var modules and > 0)
        {
            // Each module joins the next token's embedding to the hidden state, then runs a layer and the shared head (above).
            AddKernels("multi-token prediction join (last stage)", modules, LayerKernels.PredictionJoin(model, job, plan));
        }
        return layers.ToImmutable();
    }

    private static OperatorTime Operator(in Kernel kernel, KernelCost kernels, ParallelPlan plan)
    {
        var times = kernels.Times(kernel);
        var wait = times.ForwardWait + times.BackwardWait;
        var memoryTime = kernels.Time(KernelKind.Memory, Flops.Zero, kernel.Traffic) * kernel.Repeats;
        var bound = wait > Duration.Zero ? OperatorBound.Host
            : kernel.Kind == KernelKind.Memory || memoryTime >= times.Forward ? OperatorBound.Memory
            : OperatorBound.Compute;
        return new OperatorTime(kernel.Name, kernel.Kind, kernel.Repeats, kernel.TotalWork, kernel.TotalTraffic, times.Forward, times.Backward, wait, bound,
            (kernel.Modules & plan.Recomputed) != RecomputeModules.None);
    }
}
