using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Engines.EventLevel;

public class PipelineTimelineTests
{
    private static PipelineStages Uniform(int pipeline, int microBatches, int chunks = 1, double forward = 1, double backward = 2, double send = 0, bool overlap = false) =>
        new([.. Enumerable.Repeat(new RankWork(Duration.FromSeconds(forward), Duration.FromSeconds(backward)), pipeline)], chunks, microBatches, Duration.FromSeconds(send), overlap, Duration.Zero, 1);

    [Theory]
    [InlineData(4, 8, 1)]
    [InlineData(4, 4, 1)]
    [InlineData(8, 3, 1)]
    [InlineData(1, 5, 1)]
    [InlineData(4, 8, 2)]
    [InlineData(4, 16, 4)]
    [InlineData(8, 8, 3)]
    [InlineData(2, 6, 5)]
    public void UniformRanksWithoutSends_TakeTheClosedFormsFillDrainAndSteadyState(int pipeline, int microBatches, int chunks)
    {
        // Narayanan et al. 2021: (m + (p - 1) / v) (f + b) for equal stages, plain or interleaved.
        var timeline = PipelineTimeline.Of(Uniform(pipeline, microBatches, chunks));
        var expected = (microBatches + ((pipeline - 1) / (double)chunks)) * 3;
        Assert.Equal(expected, timeline.Pipeline.Seconds, 9);
        Assert.Equal(2 * microBatches * chunks * pipeline, timeline.Spans.Length);
        // Every rank is busy m (f + b); the rest of the pipeline is its bubble.
        Assert.All(timeline.Busy, busy => Assert.Equal(microBatches * 3.0, busy.Seconds, 9));
        Assert.Equal((pipeline - 1) / (double)chunks / (microBatches + ((pipeline - 1) / (double)chunks)), timeline.SlowestRankIdleShare, 9);
    }

    [Fact]
    public void EveryPass_StartsAfterItsInputAndItsRanksPreviousPass()
    {
        var stages = Uniform(4, 8, 2, forward: 1, backward: 2.5, send: 0.2);
        var timeline = PipelineTimeline.Of(stages);
        var end = timeline.Spans.ToDictionary(span => (span.Rank, span.Pass), span => span.End.Seconds);
        foreach (var rank in timeline.Spans.GroupBy(span => span.Rank))
        {
            var spans = rank.ToArray();
            for (var i = 1; i < spans.Length; i++)
            {
                Assert.True(spans[i].Start.Seconds >= spans[i - 1].End.Seconds - 1e-12);
            }
        }

        foreach (var span in timeline.Spans.Where(span => !span.Pass.Backward && span.Rank > 0))
        {
            Assert.True(span.Start.Seconds >= end[(span.Rank - 1, span.Pass)] + 0.2 - 1e-12);
        }

        foreach (var span in timeline.Spans.Where(span => span.Pass.Backward && span.Rank < 3))
        {
            Assert.True(span.Start.Seconds >= end[(span.Rank + 1, span.Pass)] + 0.2 - 1e-12);
        }
    }

    [Fact]
    public void Sends_LengthenTheFillAndDrain_AndCostLessWhereTheyOverlap()
    {
        var without = PipelineTimeline.Of(Uniform(4, 8, 2)).Pipeline;
        var exposed = PipelineTimeline.Of(Uniform(4, 8, 2, send: 0.1)).Pipeline;
        var overlapped = PipelineTimeline.Of(Uniform(4, 8, 2, send: 0.1, overlap: true)).Pipeline;
        Assert.True(exposed > overlapped, $"{exposed} against {overlapped}");
        Assert.True(overlapped > without, $"{overlapped} against {without}");
        // Exposed, a middle rank also waits for its own sends: 2v per micro-batch on top of its work.
        Assert.True(exposed.Seconds >= (8 * 3) + (8 * 2 * 2 * 0.1) - 1e-9);
        // No more than the closed form, which charges every send of the fill and the drain as well as the steady state's.
        Assert.True(exposed.Seconds <= ((8 + (3 / 2.0)) * (3 + (2 * 2 * 0.1))) + 1e-9, $"{exposed}");
    }

    [Fact]
    public void ALighterRank_TakesLessThanTheClosedFormsSlowestEverywhere_ButNoLessThanTheSlowestsSteadyState()
    {
        // The last rank is twice as slow as the others: the closed form charges every rank its time.
        var work = Enumerable.Repeat(new RankWork(Duration.FromSeconds(1), Duration.FromSeconds(2)), 3).Append(new RankWork(Duration.FromSeconds(2), Duration.FromSeconds(4)));
        var stages = new PipelineStages([.. work], 1, 16, Duration.Zero, false, Duration.Zero, 1);
        var timeline = PipelineTimeline.Of(stages);
        var closedForm = (16 + 3) * stages.SlowestRank.Seconds;
        Assert.True(timeline.Pipeline.Seconds < closedForm);
        Assert.True(timeline.Pipeline.Seconds >= 16 * 6.0);
    }

    [Fact]
    public void ASlowedRank_HoldsBackTheWholePipeline_AndOneReplayIsDeterministic()
    {
        var timeline = new PipelineTimeline(Uniform(8, 32));
        var even = timeline.Pipeline(ReadOnlySpan<double>.Empty);
        var slowed = new double[8];
        Array.Fill(slowed, 1);
        slowed[5] = 1.1;
        var held = timeline.Pipeline(slowed);
        // Rank 5 runs its 32 micro-batches at 3.3 s each, after the five ranks before it have passed the first forward
        // on (5 s) and before the five gradients of the last go back through them (10 s); and the whole is at most
        // 10% slower.
        Assert.InRange(held.Seconds, 5 + (32 * 3.3) + 10 - 1e-9, (even.Seconds * 1.1) + 1e-9);
        Assert.True(held > even);
        Assert.Equal(held, timeline.Pipeline(slowed));
        Assert.Equal(even, timeline.Pipeline(ReadOnlySpan<double>.Empty));
    }

    [Fact]
    public void ScheduleOrders_MatchMegatronsOneForwardOneBackward()
    {
        // Rank 0 of 4 with 6 micro-batches: 3 forward passes to warm up, then alternate, then cool down.
        var order = PipelineSchedule.Of(0, 4, 6, 1).Select(pass => (pass.Backward ? "B" : "F") + pass.MicroBatch);
        Assert.Equal("F0 F1 F2 F3 B0 F4 B1 F5 B2 B3 B4 B5", string.Join(' ', order));
        // The last rank alternates from the start.
        Assert.Equal("F0 B0 F1 B1 F2 B2", string.Join(' ', PipelineSchedule.Of(3, 4, 3, 1).Select(pass => (pass.Backward ? "B" : "F") + pass.MicroBatch)));
        // Interleaved with m = p (4 ranks, 2 chunks, 4 micro-batches): Megatron-Core's current rule warms rank 0 up with
        // 2(p - 1) + p = 10 passes, capped at all 8, and the last rank with p = 4, where it once ran every forward first.
        Assert.Equal(8, PipelineSchedule.WarmUp(0, 4, 4, 2));
        Assert.Equal(4, PipelineSchedule.WarmUp(3, 4, 4, 2));
        // Interleaved, 2 ranks, 2 chunks, 4 micro-batches: rank 1 warms up with (v - 1) p = 2 forward passes, chunk 0 of micro-batches 0 and 1.
        var interleaved = PipelineSchedule.Of(1, 2, 4, 2);
        Assert.Equal(16, interleaved.Length);
        Assert.Equal(new PipelinePass(false, 0, 0), interleaved[0]);
        Assert.Equal(new PipelinePass(false, 1, 0), interleaved[1]);
        Assert.Equal(new PipelinePass(false, 0, 1), interleaved[2]);
        Assert.Equal(new PipelinePass(true, 0, 1), interleaved[3]);
        // Every pass of every micro-batch and chunk appears once, forward and backward.
        Assert.Equal(16, interleaved.Distinct().Count());
    }

    [Fact]
    public void WorkOrSlowdownsThatAreNotFiniteTimes_AreRefused_NotReportedAsADeadlock()
    {
        var bad = Uniform(4, 8) with { Ranks = [.. Enumerable.Repeat(new RankWork(Duration.FromSeconds(double.NaN), Duration.FromSeconds(1)), 4)] };
        Assert.Contains("finite times", Assert.Throws<ArgumentException>(() => new PipelineTimeline(bad)).Message, StringComparison.Ordinal);
        var timeline = new PipelineTimeline(Uniform(4, 8));
        Assert.Throws<ArgumentOutOfRangeException>(() => timeline.Pipeline([1, 1, double.PositiveInfinity, 1]));
        Assert.Throws<ArgumentOutOfRangeException>(() => timeline.Pipeline([1, 0, 1, 1]));
        Assert.Throws<ArgumentException>(() => timeline.Pipeline([1, 1]));
    }

    [Fact]
    public void AStepTooLongToReplay_OrAScheduleThatDoesNotHold_IsRefusedWithTheReason()
    {
        var tooLong = Assert.Throws<ArgumentException>(() => new PipelineTimeline(Uniform(64, 4096, 4)));
        Assert.Contains("passes", tooLong.Message, StringComparison.Ordinal);
        var interleaved = Assert.Throws<ArgumentException>(() => new PipelineTimeline(Uniform(4, 6, 2)));
        Assert.Contains("multiple of the pipeline size", interleaved.Message, StringComparison.Ordinal);
    }
}
