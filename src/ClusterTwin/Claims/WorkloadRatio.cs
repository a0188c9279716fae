using ClusterTwin.Engines;

namespace ClusterTwin.Claims;

/// <summary>
/// How much better one system runs a workload than another, with a range. Above 1 the subject is better.
/// </summary>
/// <remarks>
/// The speed-up's range combines the two bands by their parts (<see cref="BandParts"/>), treating the calibration
/// errors as roughly normal in ln, so that P10 and P90 half-widths add in quadrature as a difference of independent
/// errors does. Two predictions for one chip family share all of their calibration's error, which cancels. Two whose
/// levels rest on the same fitted runs (Trainium2 and Trainium3, both carried over from Trainium1; H100 and H200, both
/// on Hopper's fit) share that fit's own spread, which cancels; the rest of each band (a carried-over chip's miss on
/// top of its source's, or the widening for borrowed curves) is each chip's own, and those add in quadrature. Two
/// chips on different fits add their whole bands in quadrature. The uncertain figures (a published alternative link
/// bandwidth) are discrete alternatives, taken at their widest: the subject's fastest against the baseline's slowest,
/// and the reverse. A result without its parts takes the widest range of the two bands. The cost ratio at rental
/// prices is the price ratio times the speed-up, each with its range, the two prices' ranges taken as independent;
/// the energy ratio, whose ranges mix power coefficients with the step's band, takes the widest range of the two.
/// </remarks>
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
            // A step simulated without its band has none: its ends are its centre.
            var (myFast, mySlow) = Ends(subject);
            var (theirFast, theirSlow) = Ends(baseline);
            return new WorkloadRatio(value, theirFast / mySlow, theirSlow / myFast);
        }

        // ln(speed-up) errs by the baseline's error less the subject's; what the two share cancels.
        var (myLow, myHigh) = mine.ApartFrom(theirs);
        var (theirLow, theirHigh) = theirs.ApartFrom(mine);
        var down = Math.Sqrt((theirLow * theirLow) + (myHigh * myHigh));
        var up = Math.Sqrt((theirHigh * theirHigh) + (myLow * myLow));
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

    private static (Units.Duration Fast, Units.Duration Slow) Ends(TrainingStepResult result) =>
        result.StepTimeLow > Units.Duration.Zero && result.StepTimeHigh > Units.Duration.Zero ? (result.StepTimeLow, result.StepTimeHigh) : (result.StepTime, result.StepTime);

    private static bool Runs(TrainingStepResult result) => result.Valid && result.Fits && result.StepTime.Seconds > 0;
}
