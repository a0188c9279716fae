using System.Collections.Immutable;

namespace ClusterTwin.Serving;

/// <summary>One arrival rate tried: the run at that rate, and whether it met the objectives at the attainment asked.</summary>
/// <param name="Rate">Requests per second.</param>
/// <param name="Result">The simulation at that rate.</param>
/// <param name="Meets">Whether at least the attainment asked of the requests met both objectives.</param>
public sealed record CapacityProbe(double Rate, ServingResult Result, bool Meets);

/// <summary>The highest arrival rate a deployment serves within its objectives, and every rate tried to find it.</summary>
/// <param name="Attainment">The share of requests that must meet both objectives.</param>
/// <param name="Probes">Every rate tried, lowest first.</param>
/// <param name="Capacity">The highest rate tried that met the objectives; null when none did.</param>
/// <param name="Ceiling">
/// The lowest rate tried above <paramref name="Capacity"/> that missed them (within <see cref="CapacitySearch.Precision"/>
/// of it); null when every rate tried met them, or none did.
/// </param>
public sealed record CapacityResult(double Attainment, ImmutableArray<CapacityProbe> Probes, CapacityProbe? Capacity, CapacityProbe? Ceiling)
{
    /// <summary>Whether every rate tried met the objectives: they bind at no load the search reached.</summary>
    public bool Unbounded => Capacity is not null && Ceiling is null;

    /// <summary>Whether no rate can meet the objectives because more requests than the attainment allows are refused at every rate (larger than a replica's cache).</summary>
    public bool RefusedAtAnyRate => Capacity is null && Probes.Length > 0 && CapacitySearch.RefusedShare(Probes[0].Result) > 1 - Attainment;
}

/// <summary>
/// Finds the highest arrival rate at which a deployment still serves a workload within its objectives: the question
/// "how much load can this deployment take at this SLO" (docs/serving.md#capacity). Each rate tried is a full
/// request-level simulation of the workload at that rate, with the same seed, so the arrivals are the same sequence
/// compressed or stretched in time and the requests the same ones. From the workload's own rate it raises the rate, or
/// lowers it, by a factor that doubles at each step (2, 4, 8 ...: twenty-one decades, the scenario's whole range of
/// rates, in a dozen steps), until one rate meets the objectives and another misses them, then bisects between the two
/// (geometrically) until they lie within <see cref="Precision"/> of each other. It assumes that attainment falls as the load rises;
/// where the simulation is not monotone (a queue that happens to drain at one rate and not at a lower one), it finds a
/// boundary, not necessarily the highest.
/// </summary>
public static class CapacitySearch
{
    /// <summary>The bisection stops when the rates that meet and miss the objectives lie within this share of each other.</summary>
    public const double Precision = 0.01;

    /// <summary>The longest a run's arrivals may span, as the scenario loader bounds a trace's times: lowering stops there.</summary>
    public const double LongestSpanSeconds = 1e9;

    /// <summary>The highest rate tried, the most a scenario may give (requests per second): raising stops there.</summary>
    public const double HighestRate = 1e12;

    /// <summary>
    /// Searches the capacity of the deployment <paramref name="simulate"/> runs, for <paramref name="workload"/>
    /// (generated arrivals: Poisson or bursty) at a share <paramref name="attainment"/> of its requests within the
    /// objectives.
    /// </summary>
    public static CapacityResult Run(RequestWorkload workload, Func<RequestWorkload, ServingResult> simulate, double attainment)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(simulate);
        if (workload.Arrivals is not (ArrivalKind.Poisson or ArrivalKind.Bursty) || !(workload.Rate > 0) || workload.Requests < 1)
        {
            throw new ArgumentException("a capacity search varies the arrival rate: it needs generated arrivals (Poisson or bursty) at a positive rate", nameof(workload));
        }

        // The lowest rate tried: where the requests' arrivals span as long as a run's times stay exact.
        var (lowest, highest) = (workload.Requests / LongestSpanSeconds, HighestRate);
        if (workload.Rate < lowest || workload.Rate > highest)
        {
            throw new ArgumentOutOfRangeException(nameof(workload), workload.Rate, $"the starting rate must lie from {lowest} (the requests arriving over {LongestSpanSeconds} s) to {highest} requests per second");
        }

        if (!(attainment is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(attainment), attainment, "the attainment is a share of the requests, above 0 and at most 1");
        }

        var probes = new List<CapacityProbe>();
        CapacityProbe Probe(double rate)
        {
            var result = simulate(workload with { Rate = rate });
            var probe = new CapacityProbe(rate, result, result.Attainment >= attainment);
            probes.Add(probe);
            return probe;
        }

        // Bracket the capacity: from the workload's rate, raise it while the objectives are met, or lower it while they
        // are missed, by a factor that doubles at each step, until one rate meets them and another misses them. Lowering
        // stops where the arrivals would span longer than a run's times stay exact, raising at the highest rate a
        // scenario may give; and the search stops as soon as more requests are refused than the attainment allows: a
        // refusal (a request larger than a replica's cache) does not depend on the rate.
        var first = Probe(workload.Rate);
        var (meets, misses) = first.Meets ? (first, (CapacityProbe?)null) : ((CapacityProbe?)null, first);
        var hopeless = RefusedShare(first.Result) > 1 - attainment;
        for (var factor = 2.0; !hopeless && (meets is null || misses is null); factor *= 2)
        {
            var from = misses is null ? meets!.Rate : misses.Rate;
            var rate = Math.Clamp(misses is null ? from * factor : from / factor, lowest, highest);
            if (rate == from)
            {
                break;
            }

            var probe = Probe(rate);
            (meets, misses) = probe.Meets ? (probe, misses) : (meets, probe);
        }

        // Then narrow it, halving the ratio between them each time.
        while (meets is not null && misses is not null && misses.Rate / meets.Rate > 1 + Precision)
        {
            var probe = Probe(Math.Sqrt(meets.Rate * misses.Rate));
            (meets, misses) = probe.Meets ? (probe, misses) : (meets, probe);
        }

        return new CapacityResult(attainment, [.. probes.OrderBy(probe => probe.Rate)], meets, meets is null ? null : misses);
    }

    /// <summary>The share of a run's requests refused: larger than a replica's cache, at any rate.</summary>
    public static double RefusedShare(ServingResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        var sent = result.Completed + result.Refused + result.Unfinished;
        return sent == 0 ? 0 : result.Refused / (double)sent;
    }
}
