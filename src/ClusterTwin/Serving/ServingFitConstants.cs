using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>
/// The three constants <c>clustertwin calibrate-serving</c> fits for a serving framework: over all its cases (the
/// framework's own), or over all but one (that case's held-out constants, with which <c>clustertwin validate</c>
/// predicts it as a case the fit never saw).
/// </summary>
/// <param name="LayerOverhead">Time added to each layer of each iteration.</param>
/// <param name="RequestOverhead">Time each request spends in the front end before its first token.</param>
/// <param name="MatrixScale">Factor on the multiplies' compute rate against the training-calibrated curves.</param>
/// <param name="RequestOverheadP99">The front end's 99th-percentile time; null where the fit had no P99 to hold it (the median then).</param>
public readonly record struct ServingFitConstants(Duration LayerOverhead, Duration RequestOverhead, double MatrixScale, Duration? RequestOverheadP99 = null)
{
    /// <summary>A pool run with these constants in place of its framework's.</summary>
    public ServingDeployment ApplyTo(ServingDeployment deployment) =>
        deployment with { LayerOverhead = LayerOverhead, RequestOverhead = RequestOverhead, RequestOverheadP99 = RequestOverheadP99, MatrixScale = MatrixScale };
}
