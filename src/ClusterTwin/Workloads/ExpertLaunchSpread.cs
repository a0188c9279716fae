namespace ClusterTwin.Workloads;

/// <summary>
/// How far the runs a training framework's expert launch times were fitted on stray from them: each run whose
/// prediction depends on the launch time has a least time of its own that matches its measurement, and the 10th and
/// 90th percentiles of those, as multiples of the fitted least time, bound the band of a prediction the host launches
/// bind (<c>clustertwin calibrate --framework</c> writes them).
/// </summary>
/// <param name="Low">The 10th percentile, a multiple of the fitted least time (0 to 1).</param>
/// <param name="High">The 90th percentile (1 or more).</param>
/// <param name="Runs">The fitted runs whose prediction depends on the launch time, which the percentiles are of.</param>
public sealed record ExpertLaunchSpread(double Low, double High, int Runs)
{
    /// <summary>
    /// The most the 90th percentile may be: a hundred times the fitted least time. The fit's grid reaches 300 us in
    /// steps of 5 us, so no fit gives more than 60; a larger figure in a file is a typo.
    /// </summary>
    public const double HighLimit = 100;
}
