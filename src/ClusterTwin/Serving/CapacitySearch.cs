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
public sealed record CapacityResult(double Attainment, ImmutableArray<CapacityProbe> Probes)
{
    /// <summary>The highest rate tried that met the objectives: the capacity; null when none did.</summary>
    public CapacityProbe? Capacity => Probes.LastOrDefault(probe => probe.Meets);

    /// <summary>The lowest rate tried above the capacity that missed them (the capacity lies within 1% below it); null when every rate tried met them.</summary>
    public CapacityProbe? Ceiling => Probes.FirstOrDefault(probe => !probe.Meets && probe.Rate > (Capacity?.Rate ?? 0));

    /// <summary>Whether the search stopped at its highest rate still meeting the objectives (they bind nothing the simulation reaches).</summary>
    public bool Unbounded => Capacity is not null && Ceiling is null;
}

/// <summary>
/// Finds the highest arrival rate at which a deployment still serves a workload within its objectives: the question
/// "how much load can this deployment take at this SLO" (docs/serving.md#capacity). Each rate tried is a full
/// request-level simulation of the workload at that rate, with the same seed, so the arrivals are the same sequence
/// compressed or stretched in time and the requests the same ones. From the workload's own rate it doubles, or
/// halves, until one rate meets the objectives and another misses them, then bisects between the two (geometrically)
/// until they lie within <see cref="Precision"/> of each other. It assumes that attainment falls as the load rises;
/// where the simulation is not monotone (a queue that happens to drain at one rate and not at a lower one), it finds a
/// boundary, not necessarily the highest.
/// </summary>
public static class CapacitySearch
{
    /// <summary>The bisection stops when the rates that meet and miss the objectives lie within this share of each other.</summary>
    public const double Precision = 0.01;

    /// <summary>At most this many doublings or halvings from the workload's rate (a factor of about a million either way).</summary>
    public const int MostSteps = 20;

    /// <summary>
    /// Searches the capacity of the deployment <paramref name="simulate"/> runs, for <paramref name="workload"/>
    /// (generated arrivals: Poisson or bursty) at a share <paramref name="attainment"/> of its requests within the
    /// objectives.
    /// </summary>
    public static CapacityResult Run(RequestWorkload workload, Func<RequestWorkload, ServingResult> simulate, double attainment)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(simulate);
        if (workload.Arrivals is not (ArrivalKind.Poisson or ArrivalKind.Bursty) || !(workload.Rate > 0))
        {
            throw new ArgumentException("a capacity search varies the arrival rate: it needs generated arrivals (Poisson or bursty) at a positive rate", nameof(workload));
        }

        if (!(attainment is > 0 and <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(attainment), attainment, "the attainment is a share of the requests, above 0 and at most 1");
        }

        var probes = new List<CapacityProbe>();
        bool Meets(double rate)
        {
            var result = simulate(workload with { Rate = rate });
            var probe = new CapacityProbe(rate, result, result.Attainment >= attainment);
            probes.Add(probe);
            return probe.Meets;
        }

        // Bracket the capacity: from the workload's rate, double while the objectives are met, or halve while they
        // are missed, until one rate meets them and another misses them.
        var (meets, misses) = Meets(workload.Rate) ? (workload.Rate, double.NaN) : (double.NaN, workload.Rate);
        var factor = double.IsNaN(misses) ? 2.0 : 0.5;
        for (var step = 0; step < MostSteps && (double.IsNaN(meets) || double.IsNaN(misses)); step++)
        {
            var rate = (double.IsNaN(misses) ? meets : misses) * factor;
            if (Meets(rate))
            {
                meets = rate;
            }
            else
            {
                misses = rate;
            }
        }

        // Then narrow it, halving the ratio between them each time.
        while (!double.IsNaN(meets) && !double.IsNaN(misses) && misses / meets > 1 + Precision)
        {
            var middle = Math.Sqrt(meets * misses);
            if (Meets(middle))
            {
                meets = middle;
            }
            else
            {
                misses = middle;
            }
        }

        return new CapacityResult(attainment, [.. probes.OrderBy(probe => probe.Rate)]);
    }
}
