using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Engines.EventLevel;

public class ReplayAgainstClosedFormTests
{
    [Fact]
    public void OnEveryValidationCase_TheSlowestRankIsTheClosedFormsStage_AndTheReplayAgreesWithinTwoPercent()
    {
        var checkedPipelines = 0;
        foreach (var published in Repository.TrainingCases)
        {
            var result = AnalyticalEngine.Simulate(published.Scenario);
            var stages = AnalyticalEngine.Stages(published.Scenario);
            Assert.True(result.Valid && stages is not null, published.Id);
            var breakdown = result.Breakdown!;
            // The closed form's time per micro-batch on its slowest stage, before the sends and the bubble.
            var perMicroBatch = (breakdown.Compute + breakdown.Recompute + breakdown.TensorParallelCommunication + breakdown.ContextParallelCommunication
                + breakdown.ExpertParallelCommunication + breakdown.HostLaunchWait + breakdown.ActivationOffload).Seconds / result.MicroBatches;
            Assert.Equal(1, stages.SlowestRank.Seconds / perMicroBatch, 9);
            var replayed = PipelineTimeline.Of(stages).StepTime / result.StepTime;
            if (stages.Pipeline == 1)
            {
                // Without a pipeline the replay is the closed form's sum, pass by pass.
                Assert.Equal(1, replayed, 9);
            }
            else
            {
                // Each rank at its own pace, and the sends' latency where they overlap: within 2% of the closed form.
                Assert.InRange(replayed, 0.98, 1.02);
                checkedPipelines++;
            }
        }

        Assert.True(checkedPipelines >= 40, $"{checkedPipelines} cases with a pipeline");
    }

    [Theory]
    [InlineData(PipelineScheduleKind.ZeroBubble)]
    [InlineData(PipelineScheduleKind.DualPipe)]
    public void UnderTheOtherSchedules_OnEveryValidationCaseTheyRun_TheReplayAgreesWithTheClosedFormAsCloselyAs1F1B(PipelineScheduleKind schedule)
    {
        static double Replayed(Scenario scenario) => PipelineTimeline.Of(AnalyticalEngine.Stages(scenario)!).StepTime / AnalyticalEngine.Simulate(scenario).StepTime;
        var checkedPipelines = 0;
        foreach (var published in Repository.TrainingCases.Where(published => published.Scenario.Plan.PipelineParallelism > 1))
        {
            // One chunk per rank, as the other schedules run.
            var plain = published.Scenario.WithPlan(plan => plan with { VirtualStages = 1, OverlapPipelineCommunication = null });
            var scenario = plain.WithPlan(plan => plan with { Schedule = schedule });
            var result = AnalyticalEngine.Simulate(scenario);
            if (!result.Valid)
            {
                // DualPipe needs an even pipeline and two micro-batches per rank; some cases have neither.
                Assert.Contains(result.Problems, problem => problem.Contains("schedule dualpipe", StringComparison.Ordinal));
                continue;
            }

            // The closed form's pace is the slowest rank's, under DualPipe each rank's mirrored pair of stages (where
            // the middle stages differ in dense layers, the closed form takes the slowest middle stage twice: at most
            // above).
            var breakdown = result.Breakdown!;
            var perMicroBatch = (breakdown.Compute + breakdown.Recompute + breakdown.TensorParallelCommunication + breakdown.ContextParallelCommunication
                + breakdown.ExpertParallelCommunication + breakdown.HostLaunchWait + breakdown.ActivationOffload).Seconds / result.MicroBatches;
            Assert.InRange(AnalyticalEngine.Stages(scenario)!.SlowestRank.Seconds / perMicroBatch, 0.99, 1 + 1e-9);

            // The closed form charges the bubble at the slowest rank's pace, where the replay runs each rank at its
            // own: on stages as even as most cases', within 2%; where the last stage is much the slowest (a large
            // vocabulary on few micro-batches), no further off than 1F1B's closed form is, plus 2 points.
            var (replayed, oneForwardOneBackward) = (Replayed(scenario), Replayed(plain));
            Assert.True(Math.Abs(replayed - 1) <= Math.Max(0.02, Math.Abs(oneForwardOneBackward - 1) + 0.02), $"{published.Id}: replay / closed form {replayed:F4} under {schedule}, {oneForwardOneBackward:F4} under 1F1B");
            checkedPipelines++;
        }

        Assert.True(checkedPipelines >= 20, $"{checkedPipelines} cases with a pipeline");
    }

    [Fact]
    public void APlanThatDoesNotDivide_HasNoStagesAndIsNotReplayed()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024").WithPlan(plan => plan with { PipelineParallelism = 7 });
        Assert.Null(AnalyticalEngine.Stages(scenario));
        var step = EventLevelStep.Of(scenario);
        Assert.Null(step.Timeline);
        Assert.Contains("does not divide", step.NotReplayed, StringComparison.Ordinal);
    }
}
