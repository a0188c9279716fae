using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;

namespace ClusterTwin.Tests.Engines;

public class PipelineSchedulesScenarioTests
{
    private const string Example = "compare-schedules/deepseek-v3-h100-2048-1f1b";

    private static Scenario Under(Scenario scenario, PipelineScheduleKind schedule) => scenario.WithPlan(plan => plan with { Schedule = schedule });

    [Fact]
    public void TheWeightGradients_AreHalfOfEveryWeightMultiplysBackwardPass()
    {
        // One rank holds every layer: its weight gradients are each layer's and the head's multiplies', half their
        // backward pass (the other half is the input's gradient), under the framework's slowdown without recompute.
        var example = Repository.Example("gpt3-175b-h100-1024");
        var scenario = (example with { Job = example.Job with { GlobalBatchSize = 2048 } }).WithPlan(plan => plan with
        {
            TensorParallelism = 1, PipelineParallelism = 1, VirtualStages = 1, DataParallelism = 1024, Recompute = RecomputePolicy.None, ZeroStage = 3,
        });
        var rank = Assert.Single(AnalyticalEngine.Stages(scenario)!.Ranks);
        var profiles = LayerProfile.Of(scenario);
        var multiplies = profiles.Sum(layer => layer.Count * layer.Operators.Where(item => item.Kind == KernelKind.Matrix).Sum(item => item.Backward.Seconds));
        var slowdown = AnalyticalEngine.NoRecomputeSlowdown(scenario) ?? 1;
        Within.Relative(multiplies / 2 * slowdown, rank.WeightGradient.Seconds, 1e-9);
        Assert.InRange(rank.WeightGradient / rank.Backward, 0.2, 0.5);
    }

    [Fact]
    public void ZeroBubble_ShrinksTheBubbleAndNothingElse_AndKeepsThePipelinesMicroBatchesOnEveryRank()
    {
        var oneForwardOneBackward = Repository.Example(Example);
        var zeroBubble = Under(oneForwardOneBackward, PipelineScheduleKind.ZeroBubble);
        var (before, after) = (AnalyticalEngine.Simulate(oneForwardOneBackward), AnalyticalEngine.Simulate(zeroBubble));
        Assert.True(after.Valid, string.Join("; ", after.Problems));
        Assert.InRange(after.Breakdown!.PipelineBubble / before.Breakdown!.PipelineBubble, 0.3, 0.8);
        Assert.Equal(before.Breakdown.Compute, after.Breakdown.Compute);
        Assert.Equal(before.Breakdown.ExpertParallelCommunication, after.Breakdown.ExpertParallelCommunication);
        Assert.Equal(before.Breakdown.Total - before.Breakdown.PipelineBubble, after.Breakdown.Total - after.Breakdown.PipelineBubble);
        // Every rank keeps p micro-batches until their weight gradients run, where 1F1B's rank r keeps p - r.
        var plan = zeroBubble.Plan;
        Assert.Equal(16.0 * 4, MemoryModel.LayerPassesInFlight(plan, 15, 120, 4, shortOuterChunk: false));
        Assert.Equal(1.0 * 4, MemoryModel.LayerPassesInFlight(oneForwardOneBackward.Plan, 15, 120, 4, shortOuterChunk: false));
        Assert.True(after.Memory!.Total > before.Memory!.Total);
    }

    [Fact]
    public void DualPipe_HoldsEachStageAndItsMirror_AndBalancesTheEndRanks()
    {
        var oneForwardOneBackward = Repository.Example(Example);
        var dualPipe = Under(oneForwardOneBackward, PipelineScheduleKind.DualPipe);
        var (model, job, plan) = (dualPipe.Model, dualPipe.Job, dualPipe.Plan);
        // Rank r holds stage r and stage p - 1 - r: the heaviest pair's parameters.
        var single = StageParameters.Of(model, job, oneForwardOneBackward.Plan);
        var mirrored = StageParameters.Of(model, job, plan);
        Within.Relative(single.First + single.Last, mirrored.First, 1e-12);
        Within.Relative(2 * single.Middle, mirrored.Middle, 1e-12);
        Within.Relative(2 * single.Average(16), mirrored.Average(16), 1e-12);

        var (before, after) = (AnalyticalEngine.Simulate(oneForwardOneBackward), AnalyticalEngine.Simulate(dualPipe));
        Assert.True(after.Valid, string.Join("; ", after.Problems));
        // The last stage (the head and the prediction module) is the slowest under 1F1B; DualPipe's end ranks share it
        // with the first, so a middle rank sets the pace.
        var stages = AnalyticalEngine.Stages(oneForwardOneBackward)!;
        var (first, middle, last) = (stages.Ranks[0].Total, stages.Ranks[1].Total, stages.Ranks[^1].Total);
        Assert.True(last > middle && (first + last) / 2 < middle);
        var perMicroBatch = (after.Breakdown!.Compute + after.Breakdown.Recompute + after.Breakdown.ExpertParallelCommunication + after.Breakdown.HostLaunchWait).Seconds / after.MicroBatches;
        Within.Relative(middle.Seconds, perMicroBatch, 1e-9);
        Assert.True(after.StepTime < before.StepTime);
        // Weights, gradients and optimizer state double on the heaviest rank, as the DeepSeek-V3 report's table says.
        var (memoryBefore, memoryAfter) = (MemoryModel.PerChip(model, job, oneForwardOneBackward.Plan), MemoryModel.PerChip(model, job, plan));
        Assert.InRange(memoryAfter.Weights / memoryBefore.Weights, 1.5, 2.01);
    }

    [Fact]
    public void DualPipe_OnTwoStages_HasNoBubble()
    {
        var example = Repository.Example(Example);
        var scenario = Under(example with { Job = example.Job with { GlobalBatchSize = 16384 } }, PipelineScheduleKind.DualPipe)
            .WithPlan(plan => plan with { PipelineParallelism = 2, DataParallelism = 1024, FirstStageLayers = null, LastStageLayers = null });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.True(result.Valid, string.Join("; ", result.Problems));
        Assert.Equal(Duration.Zero, result.Breakdown!.PipelineBubble);
        Assert.Equal(0, Math.Round(EventLevelStep.Of(scenario).Timeline!.SlowestRankIdleShare, 2));
    }

    [Theory]
    [InlineData(PipelineScheduleKind.DualPipe, 1, 1, "even pipeline of at least 2 ranks, not 1")]
    [InlineData(PipelineScheduleKind.DualPipe, 8, 2, "virtual_stages 2")]
    [InlineData(PipelineScheduleKind.ZeroBubble, 8, 2, "virtual_stages 2")]
    public void APlanTheScheduleCannotRun_IsInvalidWithTheReason(PipelineScheduleKind schedule, int pipeline, int virtualStages, string reason)
    {
        // GPT-3 175B on 1,024 H100 at tensor 8: 1,536 sequences, 12 or 96 micro-batches.
        var scenario = Under(Repository.Example("gpt3-175b-h100-1024"), schedule).WithPlan(plan => plan with { PipelineParallelism = pipeline, VirtualStages = virtualStages, DataParallelism = 1024 / (pipeline * plan.TensorParallelism) });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.False(result.Valid);
        Assert.Contains(result.Problems, problem => problem.Contains(reason, StringComparison.Ordinal));
    }

    [Fact]
    public void VirtualStagesUnderAnotherSchedule_AreNamedAsTheCause_BeforeTheInterleavedSchedulesRule()
    {
        // 120 micro-batches on 16 ranks would also break the interleaved schedule's rule; the schedule is the cause.
        var scenario = Under(Repository.Example(Example), PipelineScheduleKind.DualPipe).WithPlan(plan => plan with { VirtualStages = 2 });
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.Contains(result.Problems, problem => problem.Contains("schedule dualpipe runs one chunk per rank, but the plan has virtual_stages 2", StringComparison.Ordinal));
        Assert.DoesNotContain(result.Problems, problem => problem.Contains("the interleaved schedule needs", StringComparison.Ordinal));
    }

    [Fact]
    public void DualPipe_WithTooFewMicroBatches_IsInvalidWithTheCountItNeeds()
    {
        // 2,048 sequences over 128 replicas: 16 micro-batches, where 16 ranks need 32.
        var scenario = Under(Repository.Example(Example), PipelineScheduleKind.DualPipe) with { Job = Repository.Example(Example).Job with { GlobalBatchSize = 2048 } };
        var result = AnalyticalEngine.Simulate(scenario);
        Assert.Contains(result.Problems, problem => problem.Contains("at least 32 for pipeline 16, not 16", StringComparison.Ordinal));
    }

    [Fact]
    public void TheScheduleKey_IsRead_AndABadOneIsReportedWithTheChoices()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", Example + ".yaml"));
        var read = ScenarioLoader.Load(folder.Write("zb.yaml", text.Replace("  micro_batch: 1\n", "  micro_batch: 1\n  schedule: zero-bubble\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal(PipelineScheduleKind.ZeroBubble, read.Plan.Schedule);
        var outcome = CliRunner.Run("simulate", folder.Write("bad.yaml", text.Replace("  micro_batch: 1\n", "  micro_batch: 1\n  schedule: gpipe\n", StringComparison.Ordinal)));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "bad.yaml", "plan.schedule", "1f1b, zero-bubble, dualpipe");
    }

    [Fact]
    public void AMixedPipeline_RefusesAnotherSchedule()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "mixed", "llama3-405b-rubin-trainium4.yaml"));
        var edited = System.Text.RegularExpressions.Regex.Replace(text, "(?m)^plan:\n", "plan:\n  schedule: zero-bubble\n");
        Assert.NotEqual(text, edited);
        var outcome = CliRunner.Run("simulate", folder.Write("mixed.yaml", edited));
        Assert.Equal(2, outcome.ExitCode);
        Reported.AtField(outcome, "mixed.yaml", "plan.schedule", "not replayed over a mixed pipeline");
    }
}
