using ClusterTwin.Scenarios;

namespace ClusterTwin.Planning;

/// <summary>One kind of cluster to size: the job on one system of it (its fabric, framework, calibration and price) and the plan fields pinned.</summary>
/// <param name="Template">The scenario on one system; the search replaces its system count, and its plan by each size's best layout.</param>
/// <param name="Pins">The plan fields the search file fixes, for every size.</param>
public sealed record SizeCandidate(Scenario Template, PlanPins Pins);
