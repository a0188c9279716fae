using System.Collections.Immutable;
using ClusterTwin.Engines;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Engines.EventLevel;

public class CriticalPathTests
{
    private static PipelineStages Stages(PipelineScheduleKind schedule, double[] slowdowns, int microBatches, double send, int chunks = 1) =>
        new([.. slowdowns.Select(slow => new RankWork(Duration.FromSeconds(1 * slow), Duration.FromSeconds(2 * slow), Duration.FromSeconds(0.8 * slow)))], chunks, microBatches,
            Duration.FromSeconds(send), false, Duration.Zero, 1, schedule);

    [Theory]
    [InlineData(PipelineScheduleKind.OneForwardOneBackward, 1, 0.0)]
    [InlineData(PipelineScheduleKind.OneForwardOneBackward, 1, 0.15)]
    [InlineData(PipelineScheduleKind.OneForwardOneBackward, 2, 0.15)]
    [InlineData(PipelineScheduleKind.ZeroBubble, 1, 0.15)]
    [InlineData(PipelineScheduleKind.DualPipe, 1, 0.15)]
    public void ThePath_IsAChainOfPassesEachStartingWhenTheOneBeforeEnds_ThatAddsUpToThePipeline(PipelineScheduleKind schedule, int chunks, double send)
    {
        var timeline = PipelineTimeline.Of(Stages(schedule, [1, 1, 1, 1, 1, 1, 1, 1], 16, send, chunks));
        var path = timeline.Critical;
        Assert.True(path.Spans.Length >= 2);
        var spans = path.Spans.Select(index => timeline.Spans[index]).ToArray();
        Assert.Equal(0, spans[0].Start.Seconds, 12);
        Assert.Equal(timeline.Spans.Max(span => span.End), spans[^1].End);
        // Each pass starts when the one before it ends, or one send later (its input's, or its rank's own).
        foreach (var (before, after) in spans.Zip(spans.Skip(1)))
        {
            var gap = (after.Start - before.End).Seconds;
            Assert.True(Math.Abs(gap) < 1e-9 || Math.Abs(gap - send) < 1e-9 || Math.Abs(gap - (2 * send)) < 1e-9, $"{before} -> {after}: {gap}");
        }

        var parts = path.Forward + path.Backward + path.WeightGradient + path.Sends;
        Assert.Equal(timeline.Pipeline.Seconds, parts.Seconds, 9);
        Assert.Equal((path.Forward + path.Backward + path.WeightGradient).Seconds, path.RankTime.Aggregate(Duration.Zero, (sum, time) => sum + time).Seconds, 9);
        Assert.Equal(send == 0, path.Sends.Seconds < 1e-9);
    }

    [Theory]
    [InlineData(PipelineScheduleKind.OneForwardOneBackward)]
    [InlineData(PipelineScheduleKind.ZeroBubble)]
    public void ASlowRank_HoldsMostOfThePath(PipelineScheduleKind schedule)
    {
        var timeline = PipelineTimeline.Of(Stages(schedule, [1, 1, 1.5, 1, 1, 1, 1, 1], 32, 0.05));
        var path = timeline.Critical;
        var slowest = path.RankTime.IndexOf(path.RankTime.Max());
        Assert.Equal(2, slowest);
        Assert.True(path.RankTime[2] / timeline.Pipeline > 0.6, $"{path.RankTime[2] / timeline.Pipeline:P1}");
    }

    [Fact]
    public void ARepeatedReplay_KeepsNoPath_AndAllocatesNothingForIt()
    {
        var timeline = new PipelineTimeline(Stages(PipelineScheduleKind.OneForwardOneBackward, [1, 1, 1, 1], 8, 0.1));
        timeline.Pipeline(ReadOnlySpan<double>.Empty);
        var before = GC.GetAllocatedBytesForCurrentThread();
        timeline.Pipeline(ReadOnlySpan<double>.Empty);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
    }
}
