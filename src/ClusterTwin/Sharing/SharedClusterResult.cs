using System.Collections.Immutable;
using ClusterTwin.Engines;

namespace ClusterTwin.Sharing;

/// <summary>One scale-out tier's uplinks, as the jobs load them.</summary>
/// <param name="Name">The tier's name (leaf, spine...).</param>
/// <param name="Oversubscription">Its downlink to uplink bandwidth ratio.</param>
/// <param name="SystemsPerGroup">Systems under one of its switch groups.</param>
/// <param name="BusiestLoad">
/// In the busiest group, the traffic the jobs offer its uplinks over their capacity, on average over time: each
/// job's chips there times the share of its time it sends across them, times the oversubscription, over the group's
/// endpoints. Above 1 the uplinks are full whatever the phases.
/// </param>
public sealed record TierLoad(string Name, double Oversubscription, int SystemsPerGroup, double BusiestLoad);

/// <summary>One job on the shared cluster.</summary>
/// <param name="Name">The job's label.</param>
/// <param name="Footprint">Its systems in the switch groups.</param>
/// <param name="Alone">Its step as <c>simulate</c> gives it: on a cluster of its own systems, packed.</param>
/// <param name="InPlace">Its step where it is placed, with the other jobs idle.</param>
/// <param name="Shared">Its step beside the other jobs, their phases independent of its own: the expected figure, with its band.</param>
/// <param name="Aligned">Its step where every other job sends whenever it does: the worst case of phases.</param>
/// <param name="Duty">For each tier below the top, the share of its shared step it sends traffic above that tier.</param>
/// <param name="Factor">For each tier below the top, what the uplinks divide its rate by, beside the other jobs (1: its full rate).</param>
public sealed record SharedJobResult(
    string Name,
    JobFootprint Footprint,
    TrainingStepResult Alone,
    TrainingStepResult InPlace,
    TrainingStepResult Shared,
    TrainingStepResult Aligned,
    ImmutableArray<double> Duty,
    ImmutableArray<double> Factor)
{
    /// <summary>Whether every step could run.</summary>
    public bool Valid => Alone.Valid && InPlace.Valid && Shared.Valid && Aligned.Valid;

    /// <summary>Why a step could not run, alone or beside the others; empty where every one runs.</summary>
    public IEnumerable<string> Problems => Alone.Problems.Concat(InPlace.Problems).Concat(Shared.Problems).Concat(Aligned.Problems).Distinct();

    /// <summary>What sharing adds to the step where the job is placed, as a share of it.</summary>
    public double Slowdown => Valid ? (Shared.StepTime / InPlace.StepTime) - 1 : 0;

    /// <summary>What the worst phases add to the step where the job is placed, as a share of it.</summary>
    public double AlignedSlowdown => Valid ? (Aligned.StepTime / InPlace.StepTime) - 1 : 0;

    /// <summary>What the placement alone adds to (or takes from) the step <c>simulate</c> gives, as a share of it.</summary>
    public double PlacementSlowdown => Valid ? (InPlace.StepTime / Alone.StepTime) - 1 : 0;
}

/// <summary>The jobs of a <see cref="SharedCluster"/> side by side on its network.</summary>
/// <param name="Cluster">What was simulated.</param>
/// <param name="Jobs">Each job's steps, in the order listed.</param>
/// <param name="Tiers">The tiers below the top, from the leaf up, as the jobs load them.</param>
/// <param name="Iterations">Rounds of the fixed point between the jobs' steps and their duties.</param>
/// <param name="Converged">Whether the steps settled (to a part in a billion) within the rounds allowed.</param>
public sealed record SharedClusterResult(SharedCluster Cluster, ImmutableArray<SharedJobResult> Jobs, ImmutableArray<TierLoad> Tiers, int Iterations, bool Converged)
{
    /// <summary>Whether every job's steps could run.</summary>
    public bool Valid => Jobs.All(job => job.Valid);

    /// <summary>
    /// The chips whose work sharing costs: over the jobs, each one's chips times the share of its shared step that it
    /// would not have taken placed with the others idle (a job 25% slower beside the others has lost a fifth of its chips' work).
    /// </summary>
    public double ChipsLost => Jobs.Where(job => job.Valid).Sum(job => job.Shared.Chips * (1 - (job.InPlace.StepTime / job.Shared.StepTime)));

    /// <summary>What sharing adds to the jobs' steps, weighted by their chips: the chip-time it costs, as a share of the chip-time in place.</summary>
    public double ChipWeightedSlowdown
    {
        get
        {
            var valid = Jobs.Where(job => job.Valid).ToArray();
            var inPlace = valid.Sum(job => job.InPlace.Chips * job.InPlace.StepTime.Seconds);
            return inPlace > 0 ? (valid.Sum(job => job.Shared.Chips * job.Shared.StepTime.Seconds) / inPlace) - 1 : 0;
        }
    }
}
