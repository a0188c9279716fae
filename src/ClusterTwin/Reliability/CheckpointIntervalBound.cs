namespace ClusterTwin.Reliability;

/// <summary>What set a run's checkpoint interval.</summary>
public enum CheckpointIntervalBound
{
    /// <summary>Daly's optimum for the run's interruptions, to the nearest whole step.</summary>
    Optimum,

    /// <summary>The scenario's <c>resilience.checkpoint_interval</c>, to the nearest whole step.</summary>
    Scenario,

    /// <summary>One step: the optimum is shorter, and a checkpoint is taken between steps.</summary>
    OneStep,

    /// <summary>A save's length: the next checkpoint cannot start before the last is saved.</summary>
    Save,

    /// <summary>The run's length: one checkpoint, at its end.</summary>
    Run,
}
