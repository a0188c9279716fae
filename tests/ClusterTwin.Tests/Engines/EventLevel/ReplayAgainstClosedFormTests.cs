using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
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
