namespace ClusterTwin.Engines;

/// <summary>
/// What a step's band is made of, so that two predictions can be compared with the parts they share: the calibration
/// residuals (how far measured runs fell from the model) and the spread of uncertain figures (hardware alternatives,
/// launch times, routing factors).
/// </summary>
/// <param name="ResidualLow">The 10th percentile of ln(measured / predicted) the band takes, widened where it is (at most 0).</param>
/// <param name="ResidualHigh">The 90th percentile (at least 0).</param>
/// <param name="Fastest">The fastest step any uncertain figure gives, over the central step (at most 1).</param>
/// <param name="Slowest">The slowest, over the central step (at least 1).</param>
/// <param name="CarriedFrom">
/// The chip family whose measured runs the levels were carried over from, where the chip has none of its own; null
/// where it has. Two predictions carried from the same family share that family's error.
/// </param>
public sealed record BandParts(double ResidualLow, double ResidualHigh, double Fastest, double Slowest, string? CarriedFrom)
{
    /// <summary>The residuals' larger side: the half-width, in ln, of the calibration's part of the band.</summary>
    public double ResidualWidth => Math.Max(-ResidualLow, ResidualHigh);
}
