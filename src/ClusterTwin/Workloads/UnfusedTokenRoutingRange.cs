namespace ClusterTwin.Workloads;

/// <summary>
/// What a training framework's unfused token routing may take besides its central factor
/// (<see cref="TrainingFramework.UnfusedTokenRouting"/>): the least factor of the timed shapes with the router in BF16,
/// and the factor with the router in FP32, which a run may use and its recipe not say (<c>clustertwin calibrate
/// --token-routing</c> writes both). A prediction of a run without fused permutation is banded by both.
/// </summary>
/// <param name="Low">The least factor, at most the central one.</param>
/// <param name="High">The factor with the router in FP32, at least the central one.</param>
public sealed record UnfusedTokenRoutingRange(double Low, double High);
