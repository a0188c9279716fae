using ClusterTwin.Engines;

namespace ClusterTwin.Claims;

/// <summary>
/// How much better one system runs a workload than another, with a range. Above 1 the subject is better.
/// </summary>
/// <remarks>
/// The speed-up's range combines the two bands by their parts (<see cref="BandParts"/>). The calibration residuals of
/// two chips with runs of their own are independent errors, so their half-widths add in quadrature, as the 10th and
/// 90th percentiles of a difference of two independent errors do; two chips whose levels are carried over from the
/// same measured family share that family's error, so one carry-over's half-width stands for both (the carry-over
/// band is what one generation's levels missed on the next: docs/calibration.md). The uncertain figures (a published
/// alternative link bandwidth) are discrete alternatives, taken at their widest: the subject's fastest against the
/// baseline's slowest, and the reverse. A result without its parts takes the widest range of the two bands. The
/// cost ratio at rental prices is the price ratio times the speed-up, each with its range; the energy ratio, whose
/// ranges mix power coefficients with the step's band, stays at the widest range of the two.
/// </remarks>
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

        var value = baseline.StepTime / subject.StepTime;
        if (subject.BandParts is not { } mine || baseline.BandParts is not { } theirs)
        {
            return new WorkloadRatio(value, baseline.StepTimeLow / subject.StepTimeHigh, baseline.StepTimeHigh / subject.StepTimeLow);
        }

        // ln(speed-up) errs by the baseline's error less the subject's.
        var (down, up) = mine.CarriedFrom is { } from && from == theirs.CarriedFrom
            ? (Math.Max(mine.ResidualWidth, theirs.ResidualWidth), Math.Max(mine.ResidualWidth, theirs.ResidualWidth))
            : (Math.Sqrt((theirs.ResidualLow * theirs.ResidualLow) + (mine.ResidualHigh * mine.ResidualHigh)),
                Math.Sqrt((theirs.ResidualHigh * theirs.ResidualHigh) + (mine.ResidualLow * mine.ResidualLow)));
        return new WorkloadRatio(value, value * Math.Exp(-down) * theirs.Fastest / mine.Slowest, value * Math.Exp(up) * theirs.Slowest / mine.Fastest);
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
        if (!Runs(subject) || !Runs(baseline) || subject.Cost is not { } mine || baseline.Cost is not { } theirs)
        {
            return null;
        }

        var value = theirs.PerMillionTokens / mine.PerMillionTokens;
        // At rental prices a token's cost is the chips' price times their time: the range is the speed-up's and the
        // prices' ranges, each as a factor on the central ratio.
        if (mine.Rental is { } myPrice && theirs.Rental is { } theirPrice && SpeedUp(subject, baseline) is { } speed)
        {
            var price = theirPrice.Price.Value / myPrice.Price.Value;
            var (cheapest, dearest) = (theirPrice.Price.Lowest / myPrice.Price.Highest / price, theirPrice.Price.Highest / myPrice.Price.Lowest / price);
            return new WorkloadRatio(value, value * speed.Low / speed.Value * cheapest, value * speed.High / speed.Value * dearest);
        }

        return new WorkloadRatio(value, theirs.PerMillionTokensLow / mine.PerMillionTokensHigh, theirs.PerMillionTokensHigh / mine.PerMillionTokensLow);
    }

    private static bool Runs(TrainingStepResult result) => result.Valid && result.Fits && result.StepTime.Seconds > 0;
}
