using System.Collections.Immutable;
using ClusterTwin.Economics;
using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>The service-level objectives goodput counts against.</summary>
/// <param name="TimeToFirstToken">The most a request may wait for its first token.</param>
/// <param name="TimePerOutputToken">The most a request's later tokens may take each, on average.</param>
public sealed record ServingObjectives(Duration TimeToFirstToken, Duration TimePerOutputToken)
{
    /// <summary>No objectives: every request counts.</summary>
    public ServingObjectives()
        : this(Duration.FromSeconds(double.MaxValue), Duration.FromSeconds(double.MaxValue))
    {
    }

    /// <summary>Whether either objective is given (one left out is unbounded).</summary>
    public bool AnyGiven => Bounded(TimeToFirstToken) is not null || Bounded(TimePerOutputToken) is not null;

    /// <summary>An objective in seconds, or null where none was given (unbounded).</summary>
    public static double? Bounded(Duration limit) => limit.Seconds >= double.MaxValue / 2 ? null : limit.Seconds;
}

/// <summary>A latency distribution: mean and percentiles, in seconds.</summary>
public readonly record struct Summary(double Mean, double P50, double P90, double P99)
{
    /// <summary>The summary of <paramref name="histogram"/>.</summary>
    public static Summary Of(LatencyHistogram histogram)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return new(histogram.Mean, histogram.Percentile(0.5), histogram.Percentile(0.9), histogram.Percentile(0.99));
    }

    /// <summary>
    /// The summary of <paramref name="histogram"/>'s values (which hold the front end's median) once each is joined by
    /// the front end's spread: the mean by its mean beyond the median, the percentiles those of the sum.
    /// </summary>
    public static Summary Of(LatencyHistogram histogram, FrontEnd frontEnd)
    {
        ArgumentNullException.ThrowIfNull(histogram);
        return frontEnd.Spreads
            ? new(histogram.Mean + frontEnd.MeanBeyondMedian, histogram.Percentile(0.5, frontEnd), histogram.Percentile(0.9, frontEnd), histogram.Percentile(0.99, frontEnd))
            : Of(histogram);
    }
}

/// <summary>One pool of a serving run: its replicas, how busy they were, and their energy and cost over the run.</summary>
/// <param name="Role">Unified, prefill or decode.</param>
/// <param name="Deployment">The pool's deployment.</param>
/// <param name="Replicas">Replicas.</param>
/// <param name="BusyTime">Iteration time summed over its replicas.</param>
/// <param name="Iterations">Iterations run.</param>
/// <param name="KeyValueCapacityTokens">Tokens of cache per replica.</param>
/// <param name="Energy">The pool's energy over the run, where the catalogue can price it.</param>
/// <param name="Cost">The pool's cost over the run, where the catalogue has a price.</param>
public sealed record PoolUsage(PoolRole Role, ServingDeployment Deployment, long Replicas, Duration BusyTime, long Iterations, long KeyValueCapacityTokens, StepEnergy? Energy, StepCost? Cost)
{
    /// <summary>The role's name in reports: unified, prefill or decode.</summary>
    public string Name => Role.ToString().ToLowerInvariant();

    /// <summary>The share of the run the pool's replicas spent iterating.</summary>
    public double Utilization(Duration makespan) => makespan.Seconds > 0 && Replicas > 0 ? BusyTime.Seconds / (makespan.Seconds * Replicas) : 0;
}

/// <summary>What a serving simulation measured.</summary>
public sealed record ServingResult
{
    /// <summary>Requests served.</summary>
    public required long Completed { get; init; }

    /// <summary>Requests refused: a prompt that cannot be prefilled, or a whole context that cannot be held where it decodes.</summary>
    public required long Refused { get; init; }

    /// <summary>Requests admitted but never completed (zero unless the scheduler is stuck: a check, reported).</summary>
    public long Unfinished { get; init; }

    /// <summary>The share of the requests sent that met both objectives: refused and unfinished ones count as misses.</summary>
    public double Attainment => Completed + Refused + Unfinished == 0 ? 0 : WithinObjectives / (Completed + Refused + Unfinished);

    /// <summary>Times a request was preempted for cache space and recomputed.</summary>
    public required long Preemptions { get; init; }

    /// <summary>Iterations run, over all replicas.</summary>
    public required long Iterations { get; init; }

    /// <summary>From the first arrival to the last completion.</summary>
    public required Duration Makespan { get; init; }

    /// <summary>Prompt tokens of the requests served.</summary>
    public required long InputTokens { get; init; }

    /// <summary>Tokens generated.</summary>
    public required long OutputTokens { get; init; }

    /// <summary>
    /// Requests that met both objectives: where the front end's time spreads, each request counts by the share of
    /// front-end times that keep its first token within the objective (an expected count).
    /// </summary>
    public required double WithinObjectives { get; init; }

    /// <summary>The objectives.</summary>
    public required ServingObjectives Objectives { get; init; }

    /// <summary>Time to first token.</summary>
    public required Summary TimeToFirstToken { get; init; }

    /// <summary>Time per output token after the first, per request.</summary>
    public required Summary TimePerOutputToken { get; init; }

    /// <summary>The gaps between a request's successive tokens.</summary>
    public required Summary InterTokenLatency { get; init; }

    /// <summary>From arrival to the last token.</summary>
    public required Summary EndToEnd { get; init; }

    /// <summary>FLOPs the chips executed.</summary>
    public required Flops Work { get; init; }

    /// <summary>HBM bytes the chips moved.</summary>
    public required Bytes MemoryTraffic { get; init; }

    /// <summary>Bytes the chips sent.</summary>
    public required Bytes LinkTraffic { get; init; }

    /// <summary>Iteration time summed over replicas: their busy time.</summary>
    public required Duration ReplicaBusyTime { get; init; }

    /// <summary>Replicas.</summary>
    public required long Replicas { get; init; }

    /// <summary>Chips.</summary>
    public required long Chips { get; init; }

    /// <summary>Tokens of key-value cache per replica.</summary>
    public required long KeyValueCapacityTokens { get; init; }

    /// <summary>Time from a request's first token to its cache reaching the decode pool, queueing on the link included; null when not disaggregated.</summary>
    public Summary? KeyValueTransfer { get; init; }

    /// <summary>The pools: one unified pool, or the prefill and the decode pool.</summary>
    public ImmutableArray<PoolUsage> Pools { get; init; } = [];

    /// <summary>IT energy per output token over every pool; null where a pool cannot be priced.</summary>
    public Energy? EnergyPerOutputToken => PerOutputToken(energy => energy.ItPerStep);

    /// <summary>The low and high ends of <see cref="EnergyPerOutputToken"/>: every pool's energy range, summed.</summary>
    public (Energy Low, Energy High)? EnergyPerOutputTokenRange =>
        PerOutputToken(energy => energy.ItPerStepLow) is { } low && PerOutputToken(energy => energy.ItPerStepHigh) is { } high ? (low, high) : null;

    /// <summary>Facility energy per output token over every pool (each pool's IT energy times its facility's PUE).</summary>
    public Energy? FacilityEnergyPerOutputToken => PerOutputToken(energy => energy.FacilityPerStep);

    private Energy? PerOutputToken(Func<StepEnergy, Energy> part) => Pools.IsEmpty || Pools.Any(pool => pool.Energy is null) || OutputTokens == 0
        ? null
        : Pools.Aggregate(Units.Energy.Zero, (sum, pool) => sum + part(pool.Energy!)) / OutputTokens;

    /// <summary>Cost per million output tokens over every pool; null where a pool has no price.</summary>
    public Money? CostPerMillionOutputTokens => Pools.IsEmpty || Pools.Any(pool => pool.Cost is null)
        ? null
        : Pools.Aggregate(Money.Zero, (sum, pool) => sum + pool.Cost!.PerMillionTokens);

    /// <summary>The energy of the run (chips idle when not iterating), where the catalogue can price it; a single pool's.</summary>
    public StepEnergy? Energy => Pools.Length == 1 ? Pools[0].Energy : null;

    /// <summary>The cost of the run, where the catalogue has a price; a single pool's.</summary>
    public StepCost? Cost => Pools.Length == 1 ? Pools[0].Cost : null;

    /// <summary>Output tokens per second over the run.</summary>
    public double OutputTokensPerSecond => Makespan.Seconds > 0 ? OutputTokens / Makespan.Seconds : 0;

    /// <summary>Requests completed per second.</summary>
    public double RequestsPerSecond => Makespan.Seconds > 0 ? Completed / Makespan.Seconds : 0;

    /// <summary>Requests per second that met both objectives.</summary>
    public double Goodput => Makespan.Seconds > 0 ? WithinObjectives / Makespan.Seconds : 0;

    /// <summary>The share of the run the replicas spent iterating.</summary>
    public double Utilization => Makespan.Seconds > 0 && Replicas > 0 ? ReplicaBusyTime.Seconds / (Makespan.Seconds * Replicas) : 0;
}
