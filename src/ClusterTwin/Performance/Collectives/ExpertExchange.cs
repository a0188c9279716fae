using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Performance.Collectives;

/// <summary>
/// The all-to-all that carries a mixture-of-experts layer's tokens to their experts (dispatch) or back (combine), in
/// BF16, on one chip of an expert-parallel group.
/// </summary>
/// <remarks>
/// A plain all-to-all sends one copy of a token per expert it is routed to: <c>k</c> copies. A deduplicated dispatch
/// (DeepEP) sends one copy per rank holding any of its experts, and across the network one per system, forwarded
/// inside the system from there. With routing spread evenly over <c>E</c> experts, of which <c>E/n</c> sit in each of
/// <c>n</c> places (ranks or systems), a token's <c>k</c> distinct experts miss a place with probability
/// <c>C(E - E/n, k) / C(E, k)</c>, so they reach <c>n (1 - C(E - E/n, k) / C(E, k))</c> places on average. For
/// Qwen3-235B's 8 of 128 experts over four systems that is 3.6 systems where a plain all-to-all sends 8 copies.
/// </remarks>
public static class ExpertExchange
{
    /// <summary>Time of one dispatch (or combine) all-to-all of a mixture-of-experts layer on the expert group.</summary>
    public static Duration Time(CollectiveCost collectives, CommunicationGroup expertGroup, ModelArchitecture model, TrainingJob job, ParallelPlan plan)
    {
        ArgumentNullException.ThrowIfNull(collectives);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(job);
        ArgumentNullException.ThrowIfNull(plan);
        if (model.MixtureOfExperts is not { } experts || expertGroup.Size <= 1)
        {
            return Duration.Zero;
        }

        // A capacity factor pads every expert's input to its capacity: the buffers grow with it.
        var tokens = LayerKernels.RoutedTokens(job, plan) * (job.ExpertCapacityFactor ?? 1);
        var tokenBytes = model.HiddenSize * 2.0;
        var members = expertGroup.Size;
        var local = expertGroup.CrossesFabric ? (expertGroup.Aligned ? expertGroup.MembersPerSystem : 1) : members;
        if (plan.ExpertDispatch == ExpertDispatch.AllToAll)
        {
            var buffer = Bytes.FromCount(tokens * experts.PerToken * tokenBytes);
            return collectives.AllToAll(expertGroup, buffer, buffer * ((members - local) / (double)members));
        }

        var ranks = PlacesReached(experts.Routed, experts.PerToken, members);
        var systems = members / local;
        var remoteSystems = PlacesReached(experts.Routed, experts.PerToken, systems) * (systems - 1) / systems;
        return collectives.AllToAll(expertGroup, Bytes.FromCount(tokens * ranks * tokenBytes), Bytes.FromCount(tokens * remoteSystems * tokenBytes));
    }

    /// <summary>
    /// What shows of one layer's forward and backward all-to-alls (<paramref name="pass"/> each: dispatch and combine)
    /// under Megatron-Core's expert-communication overlap, where one micro-batch's forward runs beside another's
    /// backward block against block (its combined 1F1B): the forward dispatch beside the backward experts, the forward
    /// combine beside the backward attention, the backward's two beside the forward's experts and attention. Each hides
    /// behind its partner, which meanwhile gives up the share of the chip the communication kernels occupy: of an
    /// all-to-all taking <c>a</c> beside computation taking <c>c</c>, ideally <c>max(a f, a - c)</c> still shows, and
    /// of what the ideal hides the framework realizes its <see cref="ExpertOverlap.Realized"/>.
    /// </summary>
    public static Duration Overlapped(ExpertOverlap overlap, Duration pass, Duration expertsForward, Duration expertsBackward, Duration attentionForward, Duration attentionBackward)
    {
        ArgumentNullException.ThrowIfNull(overlap);
        var allToAll = pass / 2;
        Duration Shown(Duration partner) =>
            allToAll - ((allToAll - Duration.Max(allToAll * overlap.CommunicationComputeShare, allToAll - partner)) * overlap.Realized);
        return allToAll <= Duration.Zero ? Duration.Zero : Shown(expertsBackward) + Shown(attentionBackward) + Shown(expertsForward) + Shown(attentionForward);
    }

    /// <summary>
    /// Of <paramref name="places"/> places holding <paramref name="routed"/> experts evenly, how many a token's
    /// <paramref name="perToken"/> distinct experts reach on average when routing is spread evenly.
    /// </summary>
    public static double PlacesReached(int routed, int perToken, int places)
    {
        if (places <= 1)
        {
            return places;
        }

        var elsewhere = routed - (routed / (double)places);
        var missed = 1.0;
        for (var index = 0; index < perToken; index++)
        {
            missed *= Math.Max(0, elsewhere - index) / (routed - index);
        }

        return places * (1 - missed);
    }
}
