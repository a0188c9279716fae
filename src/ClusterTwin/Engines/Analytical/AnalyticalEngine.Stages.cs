using ClusterTwin.Scenarios;

namespace ClusterTwin.Engines.Analytical;

public static partial class AnalyticalEngine
{
    /// <summary>
    /// Each pipeline rank's work in <paramref name="scenario"/>'s step, as the closed form costs it before reducing the
    /// ranks to the slowest: the input of the event-level engine. Null for a plan that does not divide.
    /// </summary>
    public static PipelineStages? Stages(Scenario scenario) => Step(scenario, null, null, withStages: true).Stages;
}
