using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>One kind of replica the search may deploy: a system, a tensor and a pipeline degree, a format and a batch limit.</summary>
/// <param name="System">The system whose chips serve.</param>
/// <param name="TensorParallelism">Chips of each pipeline stage of a replica, within one scale-up domain.</param>
/// <param name="Format">The multiply format (and the weights', unless the template stores them narrower).</param>
/// <param name="MaximumBatch">Most requests a replica runs at once.</param>
public sealed record SearchCandidate(AcceleratorSystem System, int TensorParallelism, NumberFormat Format, int MaximumBatch)
{
    /// <summary>Pipeline stages of a replica, each a tensor group: a replica is tensor x pipeline chips, and may span systems.</summary>
    public int PipelineParallelism { get; init; } = 1;

    /// <summary>Whether the tensor group runs attention data-parallel and splits the routed experts (<see cref="ServingDeployment.ExpertParallel"/>).</summary>
    public bool ExpertParallel { get; init; }

    /// <summary>Chips of one replica.</summary>
    public long ChipsPerReplica => (long)TensorParallelism * PipelineParallelism;

    /// <summary>The replica's degrees in words: "tensor 8", "tensor 8 x pipeline 2".</summary>
    public string Shape => PipelineParallelism > 1 ? $"tensor {TensorParallelism} x pipeline {PipelineParallelism}" : $"tensor {TensorParallelism}";
}

/// <summary>A disaggregated candidate: prefill replicas of one kind, decode replicas of another, and the network between.</summary>
/// <param name="Prefill">The prefill replica.</param>
/// <param name="Decode">The decode replica.</param>
/// <param name="Tier">The network the caches cross.</param>
public sealed record DisaggregatedCandidate(SearchCandidate Prefill, SearchCandidate Decode, TransferTier Tier);

/// <summary>The least deployment of one candidate that meets the objectives, or why none does within the chips allowed.</summary>
/// <param name="Label">The candidate in words: system, degree, format and batch (each pool's when disaggregated).</param>
/// <param name="System">The system of the candidate's (decode) replicas.</param>
/// <param name="Pools">The deployment's pools at the least replica counts that meet the objectives (or the largest tried); empty when there is none.</param>
/// <param name="Result">Its simulation, priced.</param>
/// <param name="Attainment">The share of requests that met both objectives.</param>
/// <param name="Meets">Whether it meets the objectives at the required attainment.</param>
/// <param name="Why">Why the candidate has no deployment at all (unsupported format, weights that do not fit); null otherwise.</param>
public sealed record SearchOutcome(string Label, AcceleratorSystem System, ImmutableArray<ServingDeployment> Pools, ServingResult? Result, double Attainment, bool Meets, string? Why)
{
    /// <summary>Chips of the deployment.</summary>
    public long Chips => Pools.Sum(pool => pool.Cluster.ChipCount);

    /// <summary>Cost per million output tokens at the offered load, idle capacity included; null without a price.</summary>
    public Money? CostPerMillionOutputTokens => Result?.CostPerMillionOutputTokens;
}

/// <summary>What the search varies and what it must meet.</summary>
public sealed record DeploymentSearchSettings
{
    /// <summary>The systems to try.</summary>
    public required ImmutableArray<AcceleratorSystem> Systems { get; init; }

    /// <summary>Tensor degrees to try (each within one system's scale-up domain).</summary>
    public required ImmutableArray<int> TensorDegrees { get; init; }

    /// <summary>Pipeline degrees to try: stages of tensor groups, across systems where a replica outgrows one.</summary>
    public ImmutableArray<int> PipelineDegrees { get; init; } = [1];

    /// <summary>Whether to try the tensor group split by tensor (false), expert-parallel (true), or both.</summary>
    public ImmutableArray<bool> ExpertParallelism { get; init; } = [false];

    /// <summary>Formats to try.</summary>
    public required ImmutableArray<NumberFormat> Formats { get; init; }

    /// <summary>Batch limits to try.</summary>
    public required ImmutableArray<int> MaximumBatches { get; init; }

    /// <summary>The share of requests that must meet both objectives (0.9: SLO attainment as DistServe defines it).</summary>
    public double Attainment { get; init; } = 0.9;

    /// <summary>The most chips a deployment may use.</summary>
    public long MaximumChips { get; init; } = 1024;

    /// <summary>Disaggregated candidates, searched beside the others.</summary>
    public ImmutableArray<DisaggregatedCandidate> Disaggregated { get; init; } = [];
}

/// <summary>
/// Finds, for each candidate replica, the fewest replicas that serve a workload within its latency objectives, and
/// ranks the candidates by cost per million output tokens (docs/serving.md#search). Each candidate's replica count is
/// found by doubling and then bisection over the counts the system can hold (part of one system, or whole systems),
/// as attainment grows with replicas; each step is a full request-level simulation.
/// </summary>
public static class DeploymentSearch
{
    /// <summary>Searches every candidate of <paramref name="settings"/>; the outcomes come cheapest first, those that meet the objectives before the rest.</summary>
    /// <param name="settings">What to vary.</param>
    /// <param name="template">Every setting the candidates share (framework, cache format, memory share...); its cluster, degree, format and batch are replaced.</param>
    /// <param name="workload">The requests.</param>
    /// <param name="objectives">The latency objectives.</param>
    /// <param name="clusterOf">Replicas on a number of chips of a system, or null where the system has no such part.</param>
    /// <param name="costOf">The prices of a system.</param>
    /// <param name="efficiencyOf">A chip's efficiency curves.</param>
    public static ImmutableArray<SearchOutcome> Run(DeploymentSearchSettings settings, ServingDeployment template, RequestWorkload workload, ServingObjectives objectives,
        Func<AcceleratorSystem, long, Cluster?> clusterOf, Func<AcceleratorSystem, CostSettings> costOf, Func<Chip, ChipEfficiency> efficiencyOf)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(clusterOf);
        ArgumentNullException.ThrowIfNull(costOf);
        ArgumentNullException.ThrowIfNull(efficiencyOf);
        var candidates = (from system in settings.Systems
                          from tensor in settings.TensorDegrees
                          from pipeline in settings.PipelineDegrees
                          from expert in settings.ExpertParallelism
                          from format in settings.Formats
                          from batch in settings.MaximumBatches
                          select new SearchCandidate(system, tensor, format, batch) { PipelineParallelism = pipeline, ExpertParallel = expert }).ToArray();
        var outcomes = new SearchOutcome[candidates.Length + settings.Disaggregated.Length];
        Parallel.For(0, outcomes.Length, index => outcomes[index] = index < candidates.Length
            ? Search(candidates[index], settings, template, workload, objectives, clusterOf, costOf(candidates[index].System), efficiencyOf)
            : SearchSplit(settings.Disaggregated[index - candidates.Length], settings, template, workload, objectives, clusterOf, costOf, efficiencyOf));
        return [.. outcomes
            .OrderByDescending(outcome => outcome.Meets)
            .ThenBy(outcome => outcome.CostPerMillionOutputTokens?.Dollars ?? double.MaxValue)
            .ThenBy(outcome => outcome.Chips)
            .ThenBy(outcome => outcome.Label, StringComparer.Ordinal)];
    }

    private static SearchOutcome Search(SearchCandidate candidate, DeploymentSearchSettings settings, ServingDeployment template, RequestWorkload workload, ServingObjectives objectives,
        Func<AcceleratorSystem, long, Cluster?> clusterOf, CostSettings cost, Func<Chip, ChipEfficiency> efficiencyOf)
    {
        var label = Label(candidate);
        var counts = new ReplicaCounts(candidate, settings.MaximumChips, template, clusterOf, efficiencyOf);
        if (counts.Why is { } why)
        {
            return new SearchOutcome(label, candidate.System, [], null, 0, false, why);
        }

        return Least(counts.Count, index =>
        {
            var deployment = counts.At(index);
            return Outcome(label, candidate.System, [deployment], ServingSimulator.Run(deployment, workload, objectives, cost), settings);
        }).Outcome;
    }

    /// <summary>
    /// A disaggregated candidate: the fewest prefill replicas beside a generous decode pool (half the chips allowed,
    /// or over scale-up the most that fits one domain beside the smallest prefill pool), then the fewest decode
    /// replicas beside them.
    /// </summary>
    private static SearchOutcome SearchSplit(DisaggregatedCandidate candidate, DeploymentSearchSettings settings, ServingDeployment template, RequestWorkload workload, ServingObjectives objectives,
        Func<AcceleratorSystem, long, Cluster?> clusterOf, Func<AcceleratorSystem, CostSettings> costOf, Func<Chip, ChipEfficiency> efficiencyOf)
    {
        var label = $"prefill {Label(candidate.Prefill)}; decode {Label(candidate.Decode)}; {(candidate.Tier == TransferTier.ScaleUp ? "scale-up" : "scale-out")} transfer";
        // Over scale-up both pools live in one domain, which bounds their chips together.
        var perPool = candidate.Tier == TransferTier.ScaleUp
            ? Math.Min(settings.MaximumChips, Math.Max(candidate.Prefill.System.DomainChips, candidate.Decode.System.DomainChips))
            : settings.MaximumChips / 2;
        var prefill = new ReplicaCounts(candidate.Prefill, perPool, template, clusterOf, efficiencyOf);
        var decode = new ReplicaCounts(candidate.Decode, perPool, template, clusterOf, efficiencyOf);
        if ((prefill.Why ?? decode.Why) is { } why)
        {
            return new SearchOutcome(label, candidate.Decode.System, [], null, 0, false, why);
        }

        DisaggregatedDeployment Split(int prefillIndex, int decodeIndex) => new() { Prefill = prefill.At(prefillIndex), Decode = decode.At(decodeIndex), Tier = candidate.Tier };
        var (prefillCost, decodeCost) = (costOf(candidate.Prefill.System), costOf(candidate.Decode.System));
        SearchOutcome Run(int prefillIndex, int decodeIndex)
        {
            var split = Split(prefillIndex, decodeIndex);
            if (split.Problem is { } problem)
            {
                return new SearchOutcome(label, candidate.Decode.System, [split.Prefill, split.Decode], null, 0, false, problem);
            }

            var result = ServingSimulator.Run(split, workload, objectives, prefillCost, decodeCost);
            return Outcome(label, candidate.Decode.System, [split.Prefill, split.Decode], result, settings);
        }

        // The generous decode pool: the largest that fits beside the smallest prefill pool.
        var generous = decode.Count - 1;
        while (generous > 0 && Split(0, generous).Problem is not null)
        {
            generous--;
        }

        var prefillIndex = Least(prefill.Count, index => Run(index, generous)).Index;
        return Least(decode.Count, index => Run(prefillIndex, index)).Outcome;
    }

    private static SearchOutcome Outcome(string label, AcceleratorSystem system, ImmutableArray<ServingDeployment> pools, ServingResult result, DeploymentSearchSettings settings)
    {
        // Refusals do not depend on the replica count: a candidate that refuses requests has no deployment.
        var why = result.Refused > 0 ? $"{result.Refused:N0} requests do not fit a replica's cache (prompt, or prompt and output where it decodes)" : null;
        return new SearchOutcome(label, system, pools, result, result.Attainment, result.Attainment >= settings.Attainment && why is null, why);
    }

    /// <summary>
    /// The least index whose outcome meets the objectives (attainment grows with replicas) and that outcome: doubling
    /// until one does, then bisection between the last miss and the first hit; the largest when none does, and the
    /// first outcome that says why the candidate has none at all.
    /// </summary>
    private static (int Index, SearchOutcome Outcome) Least(int count, Func<int, SearchOutcome> run)
    {
        var tried = new Dictionary<int, SearchOutcome>();
        SearchOutcome Try(int index)
        {
            if (!tried.TryGetValue(index, out var outcome))
            {
                outcome = run(index);
                tried[index] = outcome;
            }

            return outcome;
        }

        var (low, high) = (-1, 0);
        while (!Try(high).Meets)
        {
            if (high == count - 1 || Try(high).Why is not null)
            {
                return (high, Try(high));
            }

            low = high;
            high = (int)Math.Min(count - 1, (high * 2L) + 1);
        }

        while (high - low > 1)
        {
            var middle = low + ((high - low) / 2);
            (low, high) = Try(middle).Meets ? (low, middle) : (middle, high);
        }

        return (high, Try(high));
    }

    private static string Label(SearchCandidate candidate) =>
        $"{candidate.System.Name}, {candidate.Shape}{(candidate.ExpertParallel ? " expert-parallel" : string.Empty)}, {candidate.Format.Key.ToUpperInvariant()}, batch {candidate.MaximumBatch}";

    /// <summary>
    /// A candidate's deployments at every replica count the system can hold within the chips allowed, built when
    /// asked for: part of one system (each count its switches allow), then whole systems, each holding whole replicas;
    /// a replica larger than one system (a pipeline across systems) spans a whole number of them.
    /// </summary>
    private sealed class ReplicaCounts
    {
        private readonly SearchCandidate candidate;
        private readonly ServingDeployment template;
        private readonly Func<AcceleratorSystem, long, Cluster?> clusterOf;
        private readonly ChipEfficiency efficiency;
        private readonly Cluster[] withinOneSystem;
        private readonly long wholeSystems;
        private readonly long systemsPerStep;

        public ReplicaCounts(SearchCandidate candidate, long maximumChips, ServingDeployment template, Func<AcceleratorSystem, long, Cluster?> clusterOf, Func<Chip, ChipEfficiency> efficiencyOf)
        {
            this.candidate = candidate;
            this.template = template;
            this.clusterOf = clusterOf;
            var system = candidate.System;
            var tensor = candidate.TensorParallelism;
            var replica = candidate.ChipsPerReplica;
            var perSystem = system.Chips.Value;
            efficiency = efficiencyOf(system.Chip);
            withinOneSystem = [.. Enumerable.Range(1, (int)Math.Max(0, perSystem / replica)).Select(replicas => replicas * replica)
                .Where(chips => chips <= maximumChips).Select(chips => clusterOf(system, chips)).OfType<Cluster>()];

            // Past one system, counts step by whole systems: one at a time where each holds whole replicas (from two,
            // one being a part), by a replica's systems where a replica spans several (from one replica).
            systemsPerStep = replica > perSystem && replica % perSystem == 0 && perSystem % tensor == 0 ? replica / perSystem : 1;
            var fits = perSystem % replica == 0 || systemsPerStep > 1;
            wholeSystems = !fits ? 0 : Math.Max(0, (maximumChips / perSystem / systemsPerStep) - (systemsPerStep > 1 ? 0 : 1));
            var shape = candidate.Shape;
            if (!system.Chip.Supports(candidate.Format))
            {
                Why = $"the {system.Chip.Name} does not run {candidate.Format.Key}";
            }
            else if (tensor > perSystem)
            {
                Why = $"tensor {tensor} is more than the {perSystem} chips of one {system.Name}";
            }
            else if (candidate.ExpertParallel && ServingDeployment.ExpertParallelProblem(template.Model, tensor, candidate.PipelineParallelism, tensor, template.Speculation is not null) is { } expert)
            {
                Why = expert;
            }
            else if (candidate.PipelineParallelism > template.Model.Layers)
            {
                Why = $"pipeline {candidate.PipelineParallelism} is more stages than the {template.Model.Name}'s {template.Model.Layers} layers";
            }
            else if (replica > perSystem && !fits)
            {
                Why = $"a replica of {shape} = {replica} chips neither fits in a {system.Name} of {perSystem} chips nor spans a whole number of them with each stage's tensor group in one";
            }
            else if (replica > maximumChips)
            {
                Why = $"a replica of {shape} = {replica} chips is more than max_chips {maximumChips}";
            }
            else if (Count == 0)
            {
                Why = $"no part of a {system.Name} holds replicas of {shape} within {maximumChips} chips";
            }
            else if (At(0).HeadSplitProblem() is { } split)
            {
                Why = split;
            }
            else if (At(0).KeyValueCapacityTokens < 1)
            {
                Why = $"the weights leave no room for the cache at {shape}";
            }
        }

        /// <summary>Why the candidate has no deployment at all; null when it has.</summary>
        public string? Why { get; }

        /// <summary>How many replica counts there are.</summary>
        public int Count => (int)Math.Min(int.MaxValue, withinOneSystem.Length + wholeSystems);

        /// <summary>The deployment at the <paramref name="index"/>-th smallest replica count.</summary>
        public ServingDeployment At(int index)
        {
            var systems = systemsPerStep > 1 ? (index + 1L) * systemsPerStep : index - withinOneSystem.Length + 2L;
            var cluster = index < withinOneSystem.Length ? withinOneSystem[index] : clusterOf(candidate.System, systems * candidate.System.Chips.Value)!;
            return template with
            {
                Cluster = cluster,
                Efficiency = efficiency,
                TensorParallelism = candidate.TensorParallelism,
                PipelineParallelism = candidate.PipelineParallelism,
                ExpertParallel = candidate.ExpertParallel,
                WeightFormat = candidate.Format,
                StoredWeightBytesPerElement = template.StoredWeightBytesPerElement is null ? null : Math.Min(template.StoredWeightBytesPerElement.Value, candidate.Format.BytesPerElement),
                MaximumBatch = candidate.MaximumBatch,
            };
        }
    }
}
