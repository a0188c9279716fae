namespace ClusterTwin.Engines;

/// <summary>
/// What a step's band is made of, so that two predictions can be compared with the parts they share: the calibration
/// residuals (how far measured runs fell from the model), the part of them the fitted runs themselves give (shared by
/// every chip whose levels rest on those runs), and the spread of uncertain figures (hardware alternatives, launch
/// times, routing factors).
/// </summary>
/// <param name="ResidualLow">The 10th percentile of ln(measured / predicted) the band takes, widened where it is (at most 0).</param>
/// <param name="ResidualHigh">The 90th percentile (at least 0).</param>
/// <param name="Fastest">The fastest step any uncertain figure gives, over the central step (at most 1).</param>
/// <param name="Slowest">The slowest, over the central step (at least 1).</param>
/// <param name="Family">The chip's family: two predictions for one family share all of its calibration's error.</param>
/// <param name="LevelsFrom">The family whose measured runs the levels were fitted on (the chip's own, or the one they were carried over from).</param>
/// <param name="FittedLow">The 10th percentile of that fit's own residuals, before any widening (at most 0).</param>
/// <param name="FittedHigh">The 90th percentile (at least 0).</param>
public sealed record BandParts(double ResidualLow, double ResidualHigh, double Fastest, double Slowest, string Family, string LevelsFrom, double FittedLow, double FittedHigh)
{
    /// <summary>
    /// The residuals' part that is this chip's own, beside the fit it shares with another chip whose levels rest on the
    /// same runs: the widened band less the fit's own spread, in quadrature (a carried-over chip's miss on top of its
    /// source's; for a chip on its own fit, the widening for borrowed curves).
    /// </summary>
    public (double Low, double High) OwnResiduals => (-Beyond(-ResidualLow, -FittedLow), Beyond(ResidualHigh, FittedHigh));

    /// <summary>
    /// The residuals (10th and 90th percentiles, in ln) of this band that <paramref name="other"/>'s does not share: none
    /// for one chip family (the same calibration's error), <see cref="OwnResiduals"/> where both rest on the same
    /// fitted runs, else the whole residuals.
    /// </summary>
    public (double Low, double High) ApartFrom(BandParts other)
    {
        ArgumentNullException.ThrowIfNull(other);
        return Family == other.Family ? (0, 0) : LevelsFrom == other.LevelsFrom ? OwnResiduals : (ResidualLow, ResidualHigh);
    }

    private static double Beyond(double total, double shared) => Math.Sqrt(Math.Max(0, (total * total) - (shared * shared)));
}
