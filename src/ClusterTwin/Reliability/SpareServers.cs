using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Reliability;

/// <summary>
/// Servers held in reserve for a run (<c>resilience.spare_servers</c>): a hardware interruption takes its server out of
/// the job for <see cref="RepairTime"/>, and the job restarts on a spare; with none left it waits for the first server
/// back from repair. Only the event-level runs (<see cref="SimulatedRuns"/>) draw them; the analytical run assumes a
/// spare is always there.
/// </summary>
/// <param name="Count">Spare servers, each able to replace the server an interruption takes out.</param>
/// <param name="RepairTime">How long a server taken out is away, repaired or replaced, before it is a spare again.</param>
/// <param name="ReplacementShare">The share of interruptions that take a server out (the rest, software and network faults, restart on the same servers).</param>
public sealed record SpareServers(int Count, Duration RepairTime, Figure<double> ReplacementShare)
{
    /// <summary>Servers away in repair on average (Little's law): the rate that takes them out times the repair time.</summary>
    public double InRepair(Duration meanTimeBetweenInterruptions) => ReplacementShare.Value * (RepairTime / meanTimeBetweenInterruptions);
}
