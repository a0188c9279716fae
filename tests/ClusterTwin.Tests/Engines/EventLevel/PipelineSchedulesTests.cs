using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Engines.EventLevel;

public class PipelineSchedulesTests
{
    private static PipelineStages Uniform(PipelineScheduleKind schedule, int pipeline, int microBatches, double forward, double backward, double weight, double send = 0) =>
        new([.. Enumerable.Repeat(new RankWork(Duration.FromSeconds(forward), Duration.FromSeconds(backward), Duration.FromSeconds(weight)), pipeline)], 1, microBatches,
            Duration.FromSeconds(send), false, Duration.Zero, 1, schedule);

    private static double ClosedForm(PipelineScheduleKind schedule, int pipeline, int microBatches, double forward, double backward, double weight, double send = 0) =>
        (microBatches * (forward + backward + (2 * send))) + AnalyticalEngine.PipelineBubble(new ParallelPlan(1, pipeline, 1, 1) { Schedule = schedule }, microBatches,
            Duration.FromSeconds(forward + backward + (2 * send)), Duration.FromSeconds(2 * send), Duration.FromSeconds(forward), Duration.FromSeconds(weight)).Seconds
        - (microBatches * 2 * send);

    /// <summary>
    /// Pipelines of 2 to 16 ranks over 4 to 40 micro-batches (and, for zero bubble, fewer micro-batches than ranks),
    /// under the paper's F = B = W, a heavy weight gradient (W &gt; F), a light one, none, and a forward pass longer
    /// than the input gradient (F &gt; B - W), each backward pass at least twice its weight gradients as a multiply's is.
    /// </summary>
    public static TheoryData<int, int, double, double, double> Shapes(bool fewerMicroBatches)
    {
        var data = new TheoryData<int, int, double, double, double>();
        var layouts = new[] { (2, 4), (4, 8), (4, 12), (8, 16), (8, 40), (16, 32) };
        foreach (var (pipeline, microBatches) in fewerMicroBatches ? [.. layouts, (4, 2), (8, 5), (16, 1)] : layouts)
        {
            foreach (var (forward, backward, weight) in new[] { (1.0, 2.0, 1.0), (1.0, 3.0, 1.5), (1.0, 2.3, 0.7), (1.0, 2.0, 0.0), (2.0, 2.0, 1.0), (3.0, 1.0, 0.5) })
            {
                data.Add(pipeline, microBatches, forward, backward, weight);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Shapes), true)]
    public void ZeroBubble_OnEvenStages_ReplaysTheClosedFormsBubble(int pipeline, int microBatches, double forward, double backward, double weight)
    {
        var timeline = PipelineTimeline.Of(Uniform(PipelineScheduleKind.ZeroBubble, pipeline, microBatches, forward, backward, weight));
        Assert.Equal(ClosedForm(PipelineScheduleKind.ZeroBubble, pipeline, microBatches, forward, backward, weight), timeline.Pipeline.Seconds, 9);
        Assert.Equal(3 * pipeline * microBatches, timeline.Spans.Length);
        Assert.All(timeline.Busy, busy => Assert.Equal(microBatches * (forward + backward), busy.Seconds, 9));
        // Without weight gradients to defer it is 1F1B.
        if (weight == 0)
        {
            Assert.Equal((microBatches + pipeline - 1) * (forward + backward), timeline.Pipeline.Seconds, 9);
        }
    }

    [Theory]
    [MemberData(nameof(Shapes), false)]
    public void DualPipe_OnEvenStages_ReplaysTheClosedFormsBubble(int pipeline, int microBatches, double forward, double backward, double weight)
    {
        var timeline = PipelineTimeline.Of(Uniform(PipelineScheduleKind.DualPipe, pipeline, microBatches, forward, backward, weight));
        Assert.Equal(ClosedForm(PipelineScheduleKind.DualPipe, pipeline, microBatches, forward, backward, weight), timeline.Pipeline.Seconds, 9);
        Assert.Equal(PipelineTimeline.Passes(pipeline, 1, microBatches, PipelineScheduleKind.DualPipe), timeline.Spans.Length);
        Assert.All(timeline.Busy, busy => Assert.Equal(microBatches * (forward + backward), busy.Seconds, 9));
    }

    [Theory]
    [InlineData(PipelineScheduleKind.OneForwardOneBackward)]
    [InlineData(PipelineScheduleKind.ZeroBubble)]
    [InlineData(PipelineScheduleKind.DualPipe)]
    public void WithSends_TheClosedFormStaysWithinTwoPercentOfTheReplay_As1F1BDoes(PipelineScheduleKind schedule)
    {
        // 1F1B's and zero bubble's closed forms charge each step of the fill and the drain a micro-batch's two sends,
        // DualPipe's one; the replay waits for those on its critical path.
        foreach (var (pipeline, microBatches) in new[] { (4, 8), (8, 16), (8, 40) })
        {
            var stages = Uniform(schedule, pipeline, microBatches, 1, 2, 1, send: 0.2);
            var replayed = PipelineTimeline.Of(stages).Pipeline.Seconds;
            var closed = ClosedForm(schedule, pipeline, microBatches, 1, 2, 1, send: 0.2) + (microBatches * 2 * 0.2);
            Within.Relative(replayed, closed, 0.02);
        }
    }

    [Theory]
    [InlineData(PipelineScheduleKind.ZeroBubble)]
    [InlineData(PipelineScheduleKind.DualPipe)]
    public void EveryPass_RunsOnceAfterItsInputs_AndEveryWeightGradientAfterItsInputGradient(PipelineScheduleKind schedule)
    {
        const int pipeline = 4;
        var ranks = Enumerable.Range(0, pipeline).Select(rank => new RankWork(Duration.FromSeconds(1 + (0.1 * rank)), Duration.FromSeconds(2.2 - (0.1 * rank)), Duration.FromSeconds(0.8))).ToImmutableArray();
        var stages = new PipelineStages(ranks, 1, 12, Duration.FromSeconds(0.05), false, Duration.Zero, 1, schedule);
        var timeline = PipelineTimeline.Of(stages);
        var spans = timeline.Spans.ToDictionary(span => (span.Rank, span.Pass with { PairedWithNext = false }));
        Assert.Equal(timeline.Spans.Length, spans.Count);
        // The rank that runs a chunk's stage before or after this rank's: DualPipe's second direction runs backwards.
        int Before(int rank, int chunk) => schedule == PipelineScheduleKind.DualPipe && chunk == 1 ? rank + 1 : rank - 1;
        int After(int rank, int chunk) => schedule == PipelineScheduleKind.DualPipe && chunk == 1 ? rank - 1 : rank + 1;
        bool Inside(int rank) => rank is >= 0 and < pipeline;
        TimelineSpan? Gradient(int rank, PipelinePass pass) =>
            spans.TryGetValue((rank, pass with { Kind = PassKind.InputGradient }), out var split) ? split
            : spans.TryGetValue((rank, pass with { Kind = PassKind.Backward }), out var whole) ? whole : null;
        foreach (var span in timeline.Spans)
        {
            var pass = span.Pass with { PairedWithNext = false };
            switch (pass.Kind)
            {
                case PassKind.Forward when Inside(Before(span.Rank, pass.Chunk)):
                    Assert.True(span.Start.Seconds >= spans[(Before(span.Rank, pass.Chunk), pass)].End.Seconds + 0.05 - 1e-9, $"{span}");
                    break;
                case PassKind.Backward or PassKind.InputGradient:
                    var input = Inside(After(span.Rank, pass.Chunk)) ? Gradient(After(span.Rank, pass.Chunk), pass)!.Value.End.Seconds + 0.05 : spans[(span.Rank, pass with { Kind = PassKind.Forward })].End.Seconds;
                    Assert.True(span.Start.Seconds >= input - 1e-9, $"{span}");
                    break;
                case PassKind.WeightGradient:
                    Assert.True(span.Start.Seconds >= spans[(span.Rank, pass with { Kind = PassKind.InputGradient })].End.Seconds - 1e-9, $"{span}");
                    break;
            }
        }

        // Each rank runs one forward and one backward of each micro-batch through each of its stages, and a rank's
        // passes do not overlap.
        foreach (var rank in timeline.Spans.GroupBy(span => span.Rank))
        {
            Assert.Equal(12, rank.Count(span => span.Pass.Kind == PassKind.Forward));
            Assert.Equal(12, rank.Count(span => span.Pass.Backward));
            Assert.Equal(rank.Count(span => span.Pass.Kind == PassKind.InputGradient), rank.Count(span => span.Pass.Kind == PassKind.WeightGradient));
            Assert.All(rank.Zip(rank.Skip(1)), pair => Assert.True(pair.Second.Start >= pair.First.End));
        }
    }

    [Fact]
    public void ZeroBubble_KeepsAtMostThePipelinesMicroBatchesInFlightOnEveryRank_AndDualPipeOneMore()
    {
        foreach (var (schedule, pipeline, expected) in new[] { (PipelineScheduleKind.ZeroBubble, 8, 8), (PipelineScheduleKind.DualPipe, 8, 9) })
        {
            for (var rank = 0; rank < pipeline; rank++)
            {
                var passes = schedule == PipelineScheduleKind.ZeroBubble ? PipelineSchedule.ZeroBubble(rank, pipeline, 32) : PipelineSchedule.DualPipe(rank, pipeline, 32);
                // A micro-batch is in flight from its forward pass until its weight gradients are computed.
                var (inFlight, most) = (0, 0);
                foreach (var pass in passes)
                {
                    inFlight += pass.Kind == PassKind.Forward ? 1 : pass.Kind is PassKind.Backward or PassKind.WeightGradient ? -1 : 0;
                    most = Math.Max(most, inFlight);
                }

                Assert.Equal(0, inFlight);
                Assert.Equal(expected, most);
            }
        }
    }

    [Fact]
    public void AScheduleThatCannotRun_IsRefusedWithTheReason()
    {
        var odd = Assert.Throws<ArgumentException>(() => new PipelineTimeline(Uniform(PipelineScheduleKind.DualPipe, 3, 12, 1, 2, 1)));
        Assert.Contains("even pipeline", odd.Message, StringComparison.Ordinal);
        var few = Assert.Throws<ArgumentException>(() => new PipelineTimeline(Uniform(PipelineScheduleKind.DualPipe, 4, 6, 1, 2, 1)));
        Assert.Contains("at least 8", few.Message, StringComparison.Ordinal);
        var heavy = Assert.Throws<ArgumentException>(() => new PipelineTimeline(Uniform(PipelineScheduleKind.ZeroBubble, 4, 8, 1, 2, 3)));
        Assert.Contains("weight gradients no more than its backward pass", heavy.Message, StringComparison.Ordinal);
    }
}
