using ClusterTwin.Scenarios;

namespace ClusterTwin.Engines.Analytical;

public static partial class AnalyticalEngine
{
    /// <summary>
    /// Each pipeline rank's work in <paramref name="scenario"/>'s step, as the closed form costs it before reducing the
    /// ranks to the slowest: the input of the event-level engine. Null for a plan that does not divide.
    /// </summary>
    public static PipelineStages? Stages(Scenario scenario) => Step(scenario, null, null, withStages: true).Stages;

    /// <summary>
    /// One step of <paramref name="scenario"/> without its band (as <see cref="SimulateStep(Scenario)"/>) and each
    /// pipeline rank's work (as <see cref="Stages"/>), from one costing; the ranks' work is null for a plan that does not divide.
    /// </summary>
    public static (TrainingStepResult Result, PipelineStages? Stages) StepAndStages(Scenario scenario)
    {
        var (result, stages, _) = Step(scenario, null, null, withStages: true);
        return (result, stages);
    }
}
