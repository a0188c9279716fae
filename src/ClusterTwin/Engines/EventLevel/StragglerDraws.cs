using System.Collections.Immutable;
using ClusterTwin.Numerics;
using ClusterTwin.Reliability;
using ClusterTwin.Units;

namespace ClusterTwin.Engines.EventLevel;

/// <summary>
/// Training steps replayed with stragglers (<see cref="StragglerSettings"/>): in each, every pipeline rank runs at the
/// pace of the slowest of the chips that share its work (its data-, tensor-, context- and expert-parallel peers, which
/// meet in a collective every layer or every step), and the pipeline carries a slow rank's delay to the others.
/// </summary>
/// <remarks>
/// A rank's slowest chip is drawn directly from the distribution of the largest of its <c>K</c> chips' times (the
/// normal spread raised to the power <c>K</c>, cut where chips are replaced), and whether a transient slowdown strikes
/// any of them with chance <c>1 - (1 - q)^K</c>, so a draw costs the ranks and the passes, not the chips. The chip a
/// transient strikes is taken at the median's pace, so the rank's factor is the larger of the two. The analytical step
/// is calibrated on measured runs, which ran at their own slowest chips' pace (8 to 16,384 chips): the draws add the
/// stragglers again, so the slowdown they give is an upper bound at those sizes, and its growth with the chips is the
/// figure to read.
/// </remarks>
public sealed record StragglerDraws
{
    /// <summary>The most passes all the draws together replay; the draws are cut to fit, and the report says so.</summary>
    public const long PassBudget = 50_000_000;

    /// <summary>What was drawn.</summary>
    public required StragglerSettings Settings { get; init; }

    /// <summary>Chips whose work one pipeline rank stands for: the slowest of them sets the rank's pace.</summary>
    public required long ChipsPerRank { get; init; }

    /// <summary>The replayed step without stragglers.</summary>
    public required Duration EvenStep { get; init; }

    /// <summary>The drawn steps, fastest first.</summary>
    public required ImmutableArray<Duration> Steps { get; init; }

    /// <summary>The mean, over the draws, of the slowest chip's persistent time per pass over the median's, less one (0.05: 5% slower).</summary>
    public required double MeanSlowestChip { get; init; }

    /// <summary>The share of the chips replaced before the run for being slower than the cut (<see cref="StragglerSettings.ReplacedBeyond"/>); zero without a cut.</summary>
    public required double ReplacedShare { get; init; }

    /// <summary>The share of drawn steps in which a transient slowdown struck some rank.</summary>
    public required double StepsStruck { get; init; }

    /// <summary>The mean drawn step.</summary>
    public Duration Mean => Statistics.Mean(Steps);

    /// <summary>The standard error of <see cref="Mean"/>: the drawn steps' standard deviation over the square root of their count.</summary>
    public Duration StandardError => Statistics.StandardErrorOfMean(Steps);

    /// <summary>What stragglers add to the mean step, as a share of the even step.</summary>
    public double Slowdown => (Mean / EvenStep) - 1;

    /// <summary>The drawn step <paramref name="fraction"/> of the draws stay within.</summary>
    public Duration Percentile(double fraction) => Statistics.Percentile(Steps, fraction);

    /// <summary>Draws the steps of <paramref name="stages"/> on <paramref name="chips"/> chips.</summary>
    /// <exception cref="ArgumentException">The step is too long to replay (<see cref="PipelineTimeline.MostPasses"/>).</exception>
    public static StragglerDraws Of(PipelineStages stages, long chips, StragglerSettings settings)
    {
        ArgumentNullException.ThrowIfNull(stages);
        ArgumentNullException.ThrowIfNull(settings);
        var timeline = new PipelineTimeline(stages);
        var pipeline = stages.Pipeline;
        var chipsPerRank = Math.Max(1, chips / pipeline);
        var draws = (int)Math.Clamp(PassBudget / PipelineTimeline.Passes(stages), 1, Math.Max(1, settings.Draws));
        Duration Step(Duration pipelineTime) => (pipelineTime + stages.AfterPipeline) * stages.PowerStretch;

        // The spread's cut, in standard deviations, and the share of chips beyond it (replaced); none: no cut.
        var cut = settings is { ChipSpread: > 0, ReplacedBeyond: { } beyond } ? beyond / settings.ChipSpread : double.PositiveInfinity;
        var beyondCut = double.IsPositiveInfinity(cut) ? 0 : NormalDistribution.ShareAbove(cut);
        var struck = -PreciseMath.ExpMinusOne(chipsPerRank * PreciseMath.LogOnePlus(-settings.TransientShare));
        var random = new Random(settings.Seed);
        var factors = new double[pipeline];
        var (steps, slowestChip, stepsStruck) = (new Duration[draws], 0.0, 0);
        for (var draw = 0; draw < draws; draw++)
        {
            var (slowest, anyStruck) = (double.NegativeInfinity, false);
            for (var rank = 0; rank < pipeline; rank++)
            {
                // The largest of K draws below the cut: its share above is Q(c) + (1 - Q(c)) (1 - U^(1/K)), U in (0, 1):
                // the seeded stream's draws are whole multiples of 1 / int.MaxValue from 0, moved half a step up.
                var uniform = random.NextDouble() + (0.5 / int.MaxValue);
                var tail = beyondCut + ((1 - beyondCut) * -PreciseMath.ExpMinusOne(Math.Log(uniform) / chipsPerRank));
                var persistent = settings.ChipSpread > 0 ? 1 + (settings.ChipSpread * NormalDistribution.UpperQuantile(tail)) : 1;
                var transient = random.NextDouble() < struck;
                factors[rank] = transient ? Math.Max(persistent, settings.TransientSlowdown) : persistent;
                (slowest, anyStruck) = (Math.Max(slowest, persistent), anyStruck || transient);
            }

            steps[draw] = Step(timeline.Pipeline(factors));
            slowestChip += slowest - 1;
            stepsStruck += anyStruck ? 1 : 0;
        }

        Array.Sort(steps);
        return new StragglerDraws
        {
            Settings = settings,
            ChipsPerRank = chipsPerRank,
            EvenStep = Step(timeline.Pipeline(ReadOnlySpan<double>.Empty)),
            Steps = [.. steps],
            MeanSlowestChip = slowestChip / draws,
            ReplacedShare = beyondCut,
            StepsStruck = stepsStruck / (double)draws,
        };
    }
}
