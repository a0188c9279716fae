namespace ClusterTwin.Reliability;

/// <summary>
/// How the chips of a synchronous step differ in speed, for the event-level engine's straggler draws: a spread every
/// chip keeps (manufacturing, cooling, power delivery), cut where the operator finds and replaces its slowest chips, and
/// slowdowns that strike a chip for one step (a noisy neighbour, a collective's congestion, a thermal excursion).
/// </summary>
/// <param name="ChipSpread">
/// The standard deviation of a chip's persistent time per pass, as a share of the median chip's (0.02: two in three
/// chips within 2%); normal. Zero for none. At most 10%.
/// </param>
/// <param name="ReplacedBeyond">
/// Chips slower than the median by more than this share are found and replaced before the run (a burn-in, a fleet's
/// health checks): the spread is cut there. Null for none.
/// </param>
/// <param name="TransientShare">The chance, per chip and step, of a slowdown lasting that step. Zero for none.</param>
/// <param name="TransientSlowdown">The factor such a slowdown puts on the chip's passes (1.3: 30% slower).</param>
/// <param name="Draws">How many steps to draw, each on a new draw of the chips (at least 1).</param>
/// <param name="Seed">The seed of the draws' random stream: the same seed gives the same draws.</param>
public sealed record StragglerSettings(double ChipSpread, double? ReplacedBeyond, double TransientShare, double TransientSlowdown, int Draws = StragglerSettings.DefaultDraws, int Seed = 1)
{
    /// <summary>Steps drawn unless the scenario says otherwise.</summary>
    public const int DefaultDraws = 1000;

    /// <summary>The most draws a scenario may ask for.</summary>
    public const int MostDraws = 100_000;

    /// <summary>The largest chip spread the draws take: beyond it a normal spread would give chips faster than none.</summary>
    public const double MostChipSpread = 0.10;
}
