using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Collectives;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// The cost of one micro-batch through a layer, the embedding or the output head of a stage: its kernels forward and
/// backward, the recompute the plan replays, the tensor-, context- and expert-parallel communication they cannot hide,
/// and the waits for a host that launches expert multiplies slower than the chip runs them.
/// </summary>
internal static class LayerCosting
{
    /// <summary>
    /// One layer of <paramref name="model"/>, dense or with <paramref name="expertLayer"/> a mixture of experts
    /// (<see cref="LayerKernels.Forward"/>), costed by the overload over its kernels.
    /// A model's local-attention layers differ from its full ones in their attention alone, and a stage's layers are
    /// taken in the model's proportion of the two: exact where the pattern repeats within each stage (GPT-OSS's
    /// alternation on stages of even length), within one layer's attention otherwise. With <paramref name="wholeContext"/>
    /// the layer attends to the whole context whatever the model's pattern (a multi-token prediction module's). A plan
    /// search passes its thread's <paramref name="memo"/> of the kernels; null builds them afresh.
    /// </summary>
    internal static StageCost Layer(ModelArchitecture model, TrainingJob job, ParallelPlan plan, KernelCost kernels, (Duration Forward, Duration Backward) tensorPasses,
        ContextPass context, Duration expertPass, ExpertOverlap? expertOverlap, bool expertLayer, bool averageLoad, bool wholeContext = false, ForwardKernelMemo? memo = null)
    {
        StageCost Of(bool local) => Layer(
            memo?.Forward(model, job, plan, expertLayer, averageLoad, local) ?? LayerKernels.Forward(model, job, plan, expertLayer, averageLoad, local),
            kernels, plan, tensorPasses, context, expertPass, expertOverlap);
        var localShare = wholeContext ? 0 : model.LocalAttentionLayerCount / (double)model.Layers;
        return localShare == 0 ? Of(local: false) : (Of(local: false) * (1 - localShare)) + (Of(local: true) * localShare);
    }

    /// <param name="forward">The layer's forward kernels.</param>
    /// <param name="kernels">Their cost model.</param>
    /// <param name="plan">The plan (recompute policy, tensor overlap).</param>
    /// <param name="tensorPasses">The tensor-parallel collectives of one layer's forward pass and of its backward pass.</param>
    /// <param name="context">The context-parallel exchange of one layer; nothing without context parallelism.</param>
    /// <param name="expertPass">The expert all-to-alls of one pass (dispatch and combine); zero for a dense layer.</param>
    /// <param name="expertOverlap">The framework's overlap of the expert all-to-alls where the plan asks for it; null for a dense layer.</param>
    internal static StageCost Layer(Kernel[] forward, KernelCost kernels, ParallelPlan plan, (Duration Forward, Duration Backward) tensorPasses, ContextPass context, Duration expertPass, ExpertOverlap? expertOverlap)
    {
        var forwardTime = Duration.Zero;
        var backwardTime = Duration.Zero;
        var projectionForward = Duration.Zero;
        var projectionBackward = Duration.Zero;
        var coreForward = Duration.Zero;
        var coreBackward = Duration.Zero;
        // A ring's steps: the first, causal on the chip's own chunks, and each later one, unmasked (LayerKernels).
        var (firstStepForward, firstStepBackward, laterStepForward, laterStepBackward) = (Duration.Zero, Duration.Zero, Duration.Zero, Duration.Zero);
        var expertsForward = Duration.Zero;
        var expertsBackward = Duration.Zero;
        var (forwardWait, backwardWait) = (Duration.Zero, Duration.Zero);
        var (replayed, replayedWait, replayedWork, replayedTraffic) = (Duration.Zero, Duration.Zero, Flops.Zero, Bytes.Zero);
        // The host's launches of the pass, and of what selective recompute replays, where the host runs ahead.
        var (hostForward, hostBackward, hostReplayed) = (Duration.Zero, Duration.Zero, Duration.Zero);
        var weightGradient = Duration.Zero;
        var forwardWork = Flops.Zero;
        var backwardWork = Flops.Zero;
        var (forwardTraffic, backwardTraffic) = (Bytes.Zero, Bytes.Zero);
        // The work a low-precision recipe keeps in BF16 (fused attention, the output head): forward and backward, the
        // forward alone, and what selective recompute replays of it.
        var (keptWork, keptForward, keptReplayed) = (Flops.Zero, Flops.Zero, Flops.Zero);
        foreach (var kernel in forward)
        {
            if (kernel.RunsAtBf16Rate)
            {
                keptWork += kernel.TotalWork * (1 + kernel.BackwardFactor);
                keptForward += kernel.TotalWork;
                keptReplayed += (kernel.Modules & plan.Recomputed) != RecomputeModules.None ? kernel.TotalWork : Flops.Zero;
            }

            var (time, backward, forwardLaunch, backwardLaunch) = kernels.Times(kernel);
            forwardTime += time;
            backwardTime += backward;
            forwardWait += forwardLaunch;
            backwardWait += backwardLaunch;
            var replays = (kernel.Modules & plan.Recomputed) != RecomputeModules.None;
            if (kernels.HostRunsAhead)
            {
                var host = kernels.HostTimes(kernel);
                (hostForward, hostBackward) = (hostForward + host.Forward, hostBackward + host.Backward);
                hostReplayed += replays ? host.Forward : Duration.Zero;
            }

            if (replays)
            {
                replayed += time;
                replayedWait += forwardLaunch;
                replayedWork += kernel.TotalWork;
                replayedTraffic += kernel.TotalTraffic;
            }
            if (kernel.Kind == KernelKind.Matrix && kernel.Region != KernelRegion.AttentionCore)
            {
                projectionForward += time;
                projectionBackward += backward;
                // The chip's work, without its wait for the host's launch (which Compute leaves out too).
                weightGradient += WeightGradientOf(kernel, backward - backwardLaunch);
            }

            if (kernel.Region == KernelRegion.Experts)
            {
                expertsForward += time;
                expertsBackward += backward;
            }

            forwardWork += kernel.TotalWork;
            backwardWork += kernel.TotalWork * kernel.BackwardFactor;
            forwardTraffic += kernel.TotalTraffic;
            backwardTraffic += kernel.TotalTraffic * kernel.BackwardFactor;
            if (kernel.Region == KernelRegion.AttentionCore)
            {
                coreForward += time;
                coreBackward += backward;
            }

            if (kernel.Kind == KernelKind.FusedAttention)
            {
                if (kernel.Unmasked)
                {
                    (laterStepForward, laterStepBackward) = (time / kernel.Repeats, backward / kernel.Repeats);
                }
                else
                {
                    (firstStepForward, firstStepBackward) = (time / kernel.Repeats, backward / kernel.Repeats);
                }
            }
        }

        // Ring attention: while a chip computes attention against one key-value block, it sends that block on and
        // receives the next (Megatron-Core overlaps the two); what the block's attention cannot cover shows, at each
        // of the ring's c - 1 sends: behind the first, causal step and the c - 2 unmasked steps after it (the last
        // step sends nothing). The backward pass also sends the blocks' gradients: twice the bytes. The all-gather
        // and all-to-all variants' collectives run before and after attention, exposed.
        var ring = plan.ContextParallelism;
        static Duration Exposed(Duration send, Duration first, Duration later, int ring) =>
            Duration.Max(Duration.Zero, send - first) + (Duration.Max(Duration.Zero, send - later) * (ring - 2));
        var (contextForward, contextBackward) = ring > 1 && plan.ContextCommunication == ContextCommunication.Ring
            ? (Exposed(context.RingStep, firstStepForward, laterStepForward, ring), Exposed(context.RingStep * 2, firstStepBackward, laterStepBackward, ring))
            : (context.Forward, context.Backward);

        // Two collectives per layer in each pass (after attention and after the feed-forward block): all-reduce,
        // or all-gather plus reduce-scatter under sequence parallelism (Korthikanti et al. 2022, figure 5).
        // With overlap (Transformer Engine's userbuffers, XLA's collective matmuls), each collective is split into
        // chunks pipelined with the projection it feeds or follows: only what the projections cannot cover shows.
        var (forwardExposed, backwardExposed) = plan.OverlapTensorCommunication
            ? (Duration.Max(Duration.Zero, tensorPasses.Forward - projectionForward), Duration.Max(Duration.Zero, tensorPasses.Backward - projectionBackward))
            : tensorPasses;
        // A host running ahead waits only where a pass's launches outlast the device's work in it, its kernels and its
        // exposed collectives alike (the per-run floor does not apply: KernelCost.HostRunsAhead). Under the expert
        // overlap the all-to-alls pair with another micro-batch's work and are left out; a recompute's replay is
        // credited with its kernels alone. The wait is the expert launches', so it joins the expert block.
        if (kernels.HostRunsAhead)
        {
            var alltoalls = plan.OverlapExpertCommunication ? Duration.Zero : expertPass;
            (forwardWait, backwardWait, replayedWait) = (
                Duration.Max(Duration.Zero, hostForward - (forwardTime + forwardExposed + contextForward + alltoalls)),
                Duration.Max(Duration.Zero, hostBackward - (backwardTime + backwardExposed + contextBackward + alltoalls)),
                Duration.Max(Duration.Zero, hostReplayed - replayed));
            (forwardTime, backwardTime, replayed) = (forwardTime + forwardWait, backwardTime + backwardWait, replayed + replayedWait);
            (expertsForward, expertsBackward) = (expertsForward + forwardWait, expertsBackward + backwardWait);
        }

        var (recompute, recomputeWork, recomputeTraffic, recomputeCommunication, keptRecompute) = plan.Recompute switch
        {
            RecomputePolicy.Full => (forwardTime, forwardWork, forwardTraffic, forwardExposed, keptForward),
            // Replaying the feed-forward or expert block replays its tensor-parallel collective, one of the layer's two.
            RecomputePolicy.Selective => (replayed, replayedWork, replayedTraffic, ReplaysFeedForwardHalf(plan) ? forwardExposed / 2 : Duration.Zero, keptReplayed),
            _ => (Duration.Zero, Flops.Zero, Bytes.Zero, Duration.Zero, Flops.Zero),
        };

        // The exchange sits inside the attention core: replaying it (full recompute, or selective of core_attn)
        // replays the exchange.
        var contextRecompute = ContextPass.ReplaysExchange(plan) ? contextForward : Duration.Zero;

        // The expert all-to-alls run between the router and the experts and after them: nothing in the layer is left
        // to hide them behind (Megatron-Core's default), unless they overlap another micro-batch's blocks. A recompute
        // of the whole layer or of the expert block replays them, unpaired.
        var expertPasses = plan.Recompute == RecomputePolicy.Full || plan.Recomputed.HasFlag(RecomputeModules.Experts) ? 3 : 2;
        var expertCommunication = plan.OverlapExpertCommunication && expertOverlap is { } overlap
            ? ExpertExchange.Overlapped(overlap, expertPass, expertsForward, expertsBackward, forwardTime - expertsForward, backwardTime - expertsBackward) + (expertPass * (expertPasses - 2))
            : expertPass * expertPasses;

        // The chip's waits for the host's expert launches are shown apart from its compute.
        var recomputeWait = plan.Recompute == RecomputePolicy.Full ? forwardWait : replayedWait;
        return new StageCost(forwardTime + backwardTime - forwardWait - backwardWait, recompute - recomputeWait, forwardExposed + backwardExposed + recomputeCommunication, forwardWork + backwardWork + recomputeWork,
            contextForward + contextBackward + contextRecompute, expertCommunication, forwardTraffic + backwardTraffic + recomputeTraffic, forwardWait + backwardWait, recomputeWait,
            keptWork + keptRecompute, forwardTime + forwardExposed + contextForward + (expertCommunication / expertPasses), weightGradient);
    }

    /// <summary>
    /// The part of a multiply's <paramref name="backward"/> time that computes its weights' gradient: one of the
    /// <see cref="Kernel.BackwardFactor"/> products its backward pass runs for its forward one (the other, the input's
    /// gradient, is what the rank before waits for). Nothing for a kernel without weights.
    /// </summary>
    private static Duration WeightGradientOf(in Kernel kernel, Duration backward) =>
        kernel.Kind == KernelKind.Matrix && kernel.Region != KernelRegion.AttentionCore && kernel.BackwardFactor >= 1 ? backward / kernel.BackwardFactor : Duration.Zero;

    /// <summary>Whether selective recompute replays a layer's feed-forward or expert block, and with it its tensor-parallel collective.</summary>
    internal static bool ReplaysFeedForwardHalf(ParallelPlan plan) =>
        (plan.Recomputed & (RecomputeModules.FeedForward | RecomputeModules.Experts | RecomputeModules.SharedExperts)) != RecomputeModules.None;

    /// <summary>
    /// The embedding or the output head: its kernels both ways and its tensor-parallel <paramref name="communication"/>.
    /// The vocabulary-parallel embedding and the head each need one tensor-parallel collective per micro-batch (an
    /// all-reduce), or under sequence parallelism a reduce-scatter one way and an all-gather the other (half a layer's
    /// pass); the head's backward pass also gathers its input again.
    /// </summary>
    internal static StageCost Boundary(Kernel[] forward, KernelCost kernels, Duration communication)
    {
        var time = Duration.Zero;
        var work = Flops.Zero;
        var kept = Flops.Zero;
        var traffic = Bytes.Zero;
        var weightGradient = Duration.Zero;
        foreach (var kernel in forward)
        {
            var backward = kernels.Backward(kernel);
            time += kernels.Forward(kernel) + backward;
            weightGradient += WeightGradientOf(kernel, backward);
            work += kernel.TotalWork * (1 + kernel.BackwardFactor);
            kept += kernel.RunsAtBf16Rate ? kernel.TotalWork * (1 + kernel.BackwardFactor) : Flops.Zero;
            traffic += kernel.TotalTraffic * (1 + kernel.BackwardFactor);
        }

        return new StageCost(time, Duration.Zero, communication, work, MemoryTraffic: traffic, Bf16Work: kept, WeightGradient: weightGradient);
    }
}
