using System.Collections.Immutable;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.Analytical;

/// <summary>What sets an operator's forward time in the model.</summary>
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
/// <param name="Forward">Its forward time, any wait for the host's launches included.</param>
/// <param name="Backward">Its backward time, likewise.</param>
/// <param name="HostWait">The part of both the chip waits for the host to launch its runs.</param>
/// <param name="Bound">What sets its forward time (the backward of a fused attention follows its own curve).</param>
/// <param name="Recomputed">Whether the plan's selective recompute replays it in the backward pass.</param>
public sealed record OperatorProfile(string Name, KernelKind Kind, int Runs, Flops Work, Bytes Traffic, Duration Forward, Duration Backward, Duration HostWait, OperatorBound Bound, bool Recomputed);

/// <summary>The operators of one kind of layer (or of the embedding, the output head), as the analytical engine costs them.</summary>
/// <param name="Layer">Which layer ("dense layer", "mixture-of-experts layer", "output head and loss (last stage)").</param>
/// <param name="Count">How many of the model's layers are of this kind (the embedding: one; the head: one per output it computes).</param>
/// <param name="Operators">Its operators in order.</param>
/// <param name="HostWait">
/// The time the chip waits for the host beyond its operators: where the host runs ahead (drop-and-pad routing), the
/// launches that outlast the device's work in a pass, counted for the pass as a whole; zero otherwise.
/// </param>
public sealed record LayerProfile(string Layer, int Count, ImmutableArray<OperatorProfile> Operators, Duration HostWait)
{
    /// <summary>The forward time of all its operators.</summary>
    public Duration Forward => Operators.Aggregate(Duration.Zero, (sum, item) => sum + item.Forward);

    /// <summary>The backward time of all its operators.</summary>
    public Duration Backward => Operators.Aggregate(Duration.Zero, (sum, item) => sum + item.Backward);

    /// <summary>One of these layers' forward and backward time, with the wait for the host beyond its operators.</summary>
    public Duration Total => Forward + Backward + HostWait;

    /// <summary>
    /// The layers of <paramref name="scenario"/>'s model, each operator on the busiest chip, for one micro-batch: what
    /// the step's compute and its waits for the host's expert launches are made of, before the collectives, the
    /// recompute, the pipeline schedule and the framework's slowdown without recompute. Empty for a plan the engine
    /// refuses.
    /// </summary>
    public static ImmutableArray<LayerProfile> Of(Scenario scenario) => Of(scenario, AnalyticalEngine.SimulateStep(scenario));

    /// <summary>
    /// <see cref="Of(Scenario)"/> with <paramref name="step"/>, the scenario's step already simulated (for its layers'
    /// waits for the host), which a caller that has it need not simulate again.
    /// </summary>
    public static ImmutableArray<LayerProfile> Of(Scenario scenario, TrainingStepResult step)
    {
        ArgumentNullException.ThrowIfNull(scenario);
        ArgumentNullException.ThrowIfNull(step);
        if (!step.Valid)
        {
            return [];
        }

        var (model, job) = (scenario.Model, scenario.Job);
        var plan = AnalyticalEngine.PlanOf(scenario);
        var kernels = AnalyticalEngine.KernelCostOf(scenario);
        var layers = ImmutableArray.CreateBuilder<LayerProfile>();
        LayerProfile Table(string name, int count, Kernel[] forward, Duration hostWait = default)
        {
            var operators = forward.Select(kernel => Operator(kernel, kernels, plan)).ToImmutableArray();
            // The engine's wait for the layer, less what its operators already wait each (the dropless case).
            var beyond = hostWait - operators.Aggregate(Duration.Zero, (sum, item) => sum + item.HostWait);
            return new LayerProfile(name, count, operators, beyond > Duration.FromSeconds(1e-12) ? beyond : Duration.Zero);
        }

        void AddLayerKind(string name, int count, bool expertLayer, bool localAttention)
        {
            if (count > 0)
            {
                layers.Add(Table(name, count, LayerKernels.Forward(model, job, plan, expertLayer, averageLoad: false, localAttention),
                    expertLayer ? step.ExpertLayerHostWait : Duration.Zero));
            }
        }

        // Each layer counted by its kind, as the model places them: dense or expert, local or global attention.
        int denseGlobal = 0, denseLocal = 0, expertGlobal = 0, expertLocal = 0;
        for (var index = 0; index < model.Layers; index++)
        {
            var (dense, local) = (model.DenseLayersIn(index, 1) == 1, model.LocalAttention?.LocalLayersIn(index, 1) == 1);
            if (dense && local)
            {
                denseLocal++;
            }
            else if (dense)
            {
                denseGlobal++;
            }
            else if (local)
            {
                expertLocal++;
            }
            else
            {
                expertGlobal++;
            }
        }

        layers.Add(Table("embedding (first stage)", 1, LayerKernels.Embedding(model, job, plan)));
        AddLayerKind("dense layer", denseGlobal, expertLayer: false, localAttention: false);
        AddLayerKind("dense layer, local attention", denseLocal, expertLayer: false, localAttention: true);
        AddLayerKind("mixture-of-experts layer", expertGlobal, expertLayer: true, localAttention: false);
        AddLayerKind("mixture-of-experts layer, local attention", expertLocal, expertLayer: true, localAttention: true);

        // Each multi-token prediction module joins the next token's embedding to the hidden state, runs one more layer
        // (of the kind of the model's last, attending to the whole context) and the shared head.
        var modules = job.MultiTokenPredictionDepth(model);
        if (modules > 0)
        {
            var usesExperts = model.MultiTokenPredictionUsesExperts;
            layers.Add(Table("multi-token prediction join (last stage)", modules, LayerKernels.PredictionJoin(model, job, plan)));
            layers.Add(Table("multi-token prediction layer (last stage)", modules, LayerKernels.Forward(model, job, plan, usesExperts, averageLoad: false, localAttention: false),
                step.PredictionLayerHostWait));
        }

        layers.Add(Table("output head and loss (last stage)", 1 + modules, LayerKernels.OutputHead(model, job, plan)));
        return layers.ToImmutable();
    }

    private static OperatorProfile Operator(in Kernel kernel, KernelCost kernels, ParallelPlan plan)
    {
        var times = kernels.Times(kernel);
        var wait = times.ForwardWait + times.BackwardWait;
        var memoryTime = kernels.Time(KernelKind.Memory, Flops.Zero, kernel.Traffic) * kernel.Repeats;
        var bound = times.ForwardWait > Duration.Zero ? OperatorBound.Host
            : kernel.Kind == KernelKind.Memory || memoryTime >= times.Forward ? OperatorBound.Memory
            : OperatorBound.Compute;
        return new OperatorProfile(kernel.Name, kernel.Kind, kernel.Repeats, kernel.TotalWork, kernel.TotalTraffic, times.Forward, times.Backward, wait, bound,
            (kernel.Modules & plan.Recomputed) != RecomputeModules.None);
    }
}
