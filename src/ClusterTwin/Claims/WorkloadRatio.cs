using ClusterTwin.Engines;

namespace ClusterTwin.Claims;

/// <summary>
/// How much better one system runs a workload than another, with the widest range the two results' bands allow
/// (the subject at its best end against the baseline at its worst, and the reverse). Above 1 the subject is better.
/// </summary>
/// <param name="Value">The central ratio.</param>
/// <param name="Low">The low end.</param>
/// <param name="High">The high end.</param>
public readonly record struct WorkloadRatio(double Value, double Low, double High)
{
    /// <summary>
    /// The baseline's step time over the subject's (at equal chips, also the tokens per second per chip ratio), each
    /// throttled where its chips run at their power limit; null where either does not run.
    /// </summary>
    public static WorkloadRatio? SpeedUp(TrainingStepResult subject, TrainingStepResult baseline)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(baseline);
        if (!Runs(subject) || !Runs(baseline))
        {
            return null;
        }

        return new WorkloadRatio(baseline.StepTime / subject.StepTime, baseline.StepTimeLow / subject.StepTimeHigh, baseline.StepTimeHigh / subject.StepTimeLow);
    }

    /// <summary>The baseline's energy per token over the subject's: the subject's tokens per joule relative to the baseline's.</summary>
    public static WorkloadRatio? EnergyGain(TrainingStepResult subject, TrainingStepResult baseline)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(baseline);
        return Runs(subject) && Runs(baseline) && subject.Energy is { } mine && baseline.Energy is { } theirs
            ? new WorkloadRatio(theirs.ItPerToken / mine.ItPerToken, theirs.ItPerTokenLow / mine.ItPerTokenHigh, theirs.ItPerTokenHigh / mine.ItPerTokenLow)
            : null;
    }

    /// <summary>The baseline's cost per token over the subject's: the subject's tokens per dollar relative to the baseline's.</summary>
    public static WorkloadRatio? CostGain(TrainingStepResult subject, TrainingStepResult baseline)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(baseline);
        return Runs(subject) && Runs(baseline) && subject.Cost is { } mine && baseline.Cost is { } theirs
            ? new WorkloadRatio(theirs.PerMillionTokens / mine.PerMillionTokens, theirs.PerMillionTokensLow / mine.PerMillionTokensHigh, theirs.PerMillionTokensHigh / mine.PerMillionTokensLow)
            : null;
    }

    private static bool Runs(TrainingStepResult result) => result.Valid && result.Fits && result.StepTime.Seconds > 0;
}
