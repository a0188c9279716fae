using ClusterTwin.Catalog;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Planning;

public class PlanSearchTests
{
    /// <summary>
    /// A small model on two 8-GPU systems: a space brute force can walk in well under a second. Ten layers do not
    /// divide by four, so uneven pipelines (2, 3, 3, 2) are in the space.
    /// </summary>
    private const string SmallScenario = """
        name: small model on 16 A100
        cluster: {system: nvidia-dgx-a100, count: 2, fabric: infiniband-hdr-fat-tree}
        model:
          id: tiny-8-layer
          name: a 10-layer, 1B-parameter decoder
          layers: 10
          hidden_size: 2048
          attention_heads: 16
          key_value_heads: 8
          feed_forward_size: 8192
          feed_forward_activation: swiglu
          vocabulary_size: 32000
          position_embedding: rotary
          normalization: rmsnorm
          tied_embeddings: false
        training: {sequence_length: 4096, global_batch: 32, precision: bf16, attention: flash}
        """;

    private static PlanningScenario Load(string text)
    {
        using var folder = new TemporaryFolder();
        return ScenarioLoader.LoadForPlanning(folder.Write("scenario.yaml", text), Repository.Catalog);
    }

    [Fact]
    public void Search_FindsTheSameBestStepAsBruteForce()
    {
        var scenario = Load(SmallScenario).Scenario;
        var search = PlanSearch.Run(scenario, PlanPins.None, top: 1);

        // Every integer degree up to generous limits, checked by the engine's rules, which must agree with an
        // independent statement of the pipeline placement rule.
        var (bestSeconds, bestPlans, fitting) = (double.MaxValue, new List<ParallelPlan>(), 0);
        var chips = (int)scenario.Cluster.ChipCount;
        for (var tensor = 1; tensor <= 8; tensor++)
        {
            for (var context = 1; context <= 16; context++)
            {
            for (var pipeline = 1; pipeline <= 12; pipeline++)
            {
                if (chips % (tensor * context * pipeline) != 0)
                {
                    continue;
                }

                for (var stages = 1; stages <= 10; stages++)
                {
                    for (var microBatch = 1; microBatch <= 32; microBatch++)
                    {
                        foreach (var sequence in new[] { false, true })
                        {
                            foreach (var recompute in Enum.GetValues<RecomputePolicy>())
                            {
                                for (var zero = 0; zero <= 3; zero++)
                                {
                                foreach (var exchange in context > 1 ? Enum.GetValues<ContextCommunication>() : [ContextCommunication.Ring])
                                {
                                    var plan = new ParallelPlan(tensor, pipeline, chips / (tensor * context * pipeline), microBatch, stages, sequence, recompute, zero, ContextParallelism: context)
                                    {
                                        ContextCommunication = exchange,
                                    };
                                    var problems = PlanChecks.Problems(plan, scenario.Cluster, scenario.Model, scenario.Job);
                                    Assert.False(problems.Count == 0 && !Placeable(scenario.Model.Layers, pipeline, stages), $"PP {pipeline} VP {stages} accepted");
                                    if (problems.Count > 0)
                                    {
                                        continue;
                                    }

                                    var result = AnalyticalEngine.SimulateStep(scenario with { Plan = plan });
                                    if (!result.Fits)
                                    {
                                        continue;
                                    }

                                    fitting++;
                                    var seconds = result.StepTime.Seconds;
                                    if (seconds < bestSeconds)
                                    {
                                        (bestSeconds, bestPlans) = (seconds, [plan]);
                                    }
                                    else if (seconds == bestSeconds)
                                    {
                                        bestPlans.Add(plan);
                                    }
                                }
                                }
                            }
                        }
                    }
                }
            }
            }
        }

        Assert.True(fitting > 100, $"the brute force found only {fitting} fitting layouts: the test space is too small to mean anything");
        var best = Assert.Single(search.Plans);
        Assert.Equal(bestSeconds, best.Result.StepTime.Seconds);
        Assert.Contains(best.Plan, bestPlans);

        // Sequence parallelism without tensor parallelism is the same layout twice; the search counts it once.
        Assert.Equal(fitting, search.Evaluated + CountSequenceParallelWithoutTensor(scenario));
    }

    /// <summary>
    /// The placement rule stated directly: ranks of <c>h = ceil(L / p)</c> layers, the first and last at most one
    /// short; chunks divide <c>h</c> and each end rank holds at least one layer per chunk.
    /// </summary>
    internal static bool Placeable(int layers, int pipeline, int stages)
    {
        if (pipeline == 1)
        {
            return stages == 1;
        }

        // Megatron-LM's rule, stated on its own terms: counting the embedding (e) and the loss (l) as a layer each or
        // not (--account-for-embedding-in-pipeline-split, --account-for-loss-in-pipeline-split), the layers must fill
        // pipeline x stages chunks evenly, c each, the first chunk building c - e and the last c - l, and every rank
        // must build a layer.
        foreach (var (embedding, loss) in new[] { (0, 0), (1, 0), (0, 1), (1, 1) })
        {
            var counted = layers + embedding + loss;
            var chunk = counted / (pipeline * stages);
            if (counted % (pipeline * stages) == 0 && chunk >= 1 && (chunk * stages) - embedding >= 1 && (chunk * stages) - loss >= 1)
            {
                return true;
            }
        }

        return false;
    }

    [Fact]
    public void Search_IsTheSameOnOneThreadAsOnAll()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var all = PlanSearch.Run(scenario, PlanPins.None, top: 10);
        var one = PlanSearch.Run(scenario, PlanPins.None, top: 10, threads: 1);
        Assert.Equal(one.Plans.Select(ranked => (ranked.Plan, ranked.Result.StepTime)), all.Plans.Select(ranked => (ranked.Plan, ranked.Result.StepTime)));
        Assert.Equal((one.Evaluated, one.PrunedMemory, one.PrunedLayout, one.PrunedOther), (all.Evaluated, all.PrunedMemory, all.PrunedLayout, all.PrunedOther));
        Assert.Equal(one.Rejections, all.Rejections);
        Assert.Equal(one.FasterOverMemory?.Plan, all.FasterOverMemory?.Plan);
    }

    [Fact]
    public void PinsThatLeaveNoLayout_GiveAnEmptyResultWithTheReason_NotAnException()
    {
        var planning = Load(SmallScenario + "\nplan: {micro_batch: 7}\n");
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 3);
        Assert.Empty(search.Plans);
        Assert.Equal(0, search.Evaluated);
        Assert.Equal(search.Considered, search.PrunedLayout);
        Assert.Contains("under the pinned values", Assert.Single(search.Rejections), StringComparison.Ordinal);
    }

    /// <summary>
    /// A mixture of experts whose every size has many divisors (5,040 experts, 60 layers, a batch of 1,081,080 on 5,040
    /// H100): billions of layouts, which a search would take hours and gigabytes to walk.
    /// </summary>
    internal const string HugeSpaceScenario = """
        name: a highly divisible mixture of experts
        cluster: {system: nvidia-dgx-h100, count: 630, fabric: infiniband-ndr-fat-tree}
        model:
          id: divisible
          name: a highly divisible model
          layers: 60
          hidden_size: 5760
          attention_heads: 720
          key_value_heads: 720
          head_size: 8
          feed_forward_size: 40320
          feed_forward_activation: gelu
          vocabulary_size: 50400
          position_embedding: rotary
          normalization: layernorm
          tied_embeddings: false
          mixture_of_experts: {experts: 5040, experts_per_token: 2, expert_feed_forward_size: 720}
        training: {sequence_length: 20160, global_batch: 1081080, precision: bf16}
        """;

    [Fact]
    public void ASpaceLargerThanOneSearch_IsRefusedBeforeAnyIsSimulated_NamingTheWidestDimensions()
    {
        var planning = Load(HugeSpaceScenario);
        var scenario = planning.Scenario;
        var search = PlanSearch.Run(scenario, planning.Pins, top: 3);
        Assert.Empty(search.Plans);
        Assert.Equal(0, search.Evaluated);
        var reason = Assert.Single(search.WhyNoLayout());
        Assert.Contains("more than 10,000,000 layouts", reason, StringComparison.Ordinal);
        Assert.Contains("micro_batch 256", reason, StringComparison.Ordinal);
        Assert.Contains("(plan.micro_batch, plan.expert, plan.pipeline)", reason, StringComparison.Ordinal);

        // Pinning the widest dimensions brings it within reach.
        var narrowed = planning.Pins with { MicroBatchSize = 1, ExpertParallelism = 8, PipelineParallelism = 4, VirtualStages = 1 };
        Assert.True(new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, narrowed).CountValidLayouts(stopAfter: PlanSearch.MaximumLayouts + 1) <= PlanSearch.MaximumLayouts);
    }

    /// <summary>
    /// Every layout a search simulates, costed with one thread's memo of the layers' kernels and without: the same
    /// step, part by part, and the same memory. A mixture of experts with local attention and multi-token prediction
    /// (every kind of layer the memo keeps) and DeepSeek-V3's latent attention, over their spaces in search order.
    /// </summary>
    [Theory]
    [InlineData("model: gpt-oss-120b", 4096)]
    [InlineData("model: deepseek-v3\n", 4096)]
    public void TheKernelMemo_ChangesNoLayoutsStep(string model, int sequence)
    {
        var text = $$"""
            name: memo check
            cluster: {system: nvidia-dgx-h100, count: 4, fabric: infiniband-ndr-fat-tree}
            {{model.Trim()}}
            training: {sequence_length: {{sequence}}, global_batch: 64, precision: fp8, attention: flash}
            """;
        var planning = Load(text);
        var scenario = planning.Scenario;
        var memo = new ClusterTwin.Performance.Kernels.ForwardKernelMemo();
        var compared = 0;
        foreach (var layout in new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins).ValidLayouts().Take(4000))
        {
            var plain = AnalyticalEngine.SimulateStep(scenario with { Plan = layout });
            var remembered = AnalyticalEngine.SimulateStep(scenario with { Plan = layout }, null, memo);
            Assert.Equal(plain.Valid, remembered.Valid);
            if (plain.Valid)
            {
                Assert.Equal(plain.Breakdown, remembered.Breakdown);
                Assert.Equal(plain.Memory, remembered.Memory);
                Assert.Equal(plain.HardwareFlopsPerStep, remembered.HardwareFlopsPerStep);
                compared++;
            }
        }

        Assert.True(compared > 500, $"{compared} valid layouts compared");
    }

    [Fact]
    public void UnderAScheduleTheScenarioNames_TheSearchKeepsIt_AndOnlyTheLayoutsItCanRun()
    {
        // 32 sequences: DualPipe needs an even pipeline and at least two micro-batches per rank, no virtual stages.
        var planning = Load(SmallScenario + "\nplan: {schedule: dualpipe}\n");
        var scenario = planning.Scenario;
        var layouts = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins).ValidLayouts().ToList();
        Assert.NotEmpty(layouts);
        Assert.All(layouts, layout =>
        {
            Assert.Equal(PipelineScheduleKind.DualPipe, layout.Schedule);
            Assert.Null(PipelineScheduleKeys.Problem(layout.Schedule, layout.PipelineParallelism, layout.VirtualStages, scenario.Job.GlobalBatchSize / (layout.DataParallelism * layout.MicroBatchSize)));
        });
        var best = PlanSearch.Run(scenario, planning.Pins, top: 1).Plans[0].Plan;
        Assert.Contains("schedule: dualpipe", PlanDescription.ScenarioBlock(best), StringComparison.Ordinal);
        Assert.EndsWith("schedule dualpipe", PlanDescription.Of(best), StringComparison.Ordinal);
    }

    [Fact]
    public void SearchingTheSchedules_TriesEachWhereItRuns_AndFindsNoWorseThanTheScenariosAlone()
    {
        var planning = Load(SmallScenario);
        var scenario = planning.Scenario;
        var searched = planning.Pins with { SearchesSchedules = true };
        var layouts = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, searched).ValidLayouts().ToList();
        var plain = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins).ValidLayouts().ToList();
        // Every 1F1B layout again, and the other schedules on layouts with a pipeline of one chunk per rank.
        Assert.Equal(plain.Count, layouts.Count(layout => layout.Schedule == PipelineScheduleKind.OneForwardOneBackward));
        Assert.Equal(plain.Count(layout => layout is { PipelineParallelism: > 1, VirtualStages: 1 }), layouts.Count(layout => layout.Schedule == PipelineScheduleKind.ZeroBubble));
        Assert.Contains(layouts, layout => layout.Schedule == PipelineScheduleKind.DualPipe);
        Assert.All(layouts.Where(layout => layout.Schedule != PipelineScheduleKind.OneForwardOneBackward), layout =>
            Assert.Null(PipelineScheduleKeys.Problem(layout.Schedule, layout.PipelineParallelism, layout.VirtualStages, scenario.Job.GlobalBatchSize / (layout.DataParallelism * layout.MicroBatchSize))));
        Assert.DoesNotContain(layouts, layout => layout.PipelineParallelism == 1 && layout.Schedule != PipelineScheduleKind.OneForwardOneBackward);
        var (best, alone) = (PlanSearch.Run(scenario, searched, top: 1).Plans[0].Result.StepTime, PlanSearch.Run(scenario, planning.Pins, top: 1).Plans[0].Result.StepTime);
        Assert.True(best <= alone);
    }

    [Fact]
    public void ALayoutOfOneStage_Is1F1BWhateverTheScenarioNames()
    {
        var planning = Load(SmallScenario + "\nplan: {schedule: zero-bubble}\n");
        var scenario = planning.Scenario;
        var layouts = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins).ValidLayouts().ToList();
        Assert.Contains(layouts, layout => layout.PipelineParallelism == 1);
        Assert.All(layouts, layout => Assert.Equal(layout.PipelineParallelism == 1 ? PipelineScheduleKind.OneForwardOneBackward : PipelineScheduleKind.ZeroBubble, layout.Schedule));
    }

    [Fact]
    public void SearchingTheSchedules_WhereThePlanBlockNamesOne_IsRefused()
    {
        using var folder = new TemporaryFolder();
        var outcome = CliRunner.Run("plan", folder.Write("scenario.yaml", SmallScenario + "\nplan: {schedule: zero-bubble}\n"), "--schedules");
        Assert.Equal(2, outcome.ExitCode);
        Assert.Contains("--schedules lets the search choose the pipeline schedule, but the plan block names schedule: zero-bubble", outcome.Errors, StringComparison.Ordinal);
    }

    [Fact]
    public void CountingTheLayouts_AgreesWithEnumeratingThem_AndStopsWhereAsked()
    {
        var planning = Load(SmallScenario);
        var scenario = planning.Scenario;
        var space = new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins);
        var all = space.ValidLayouts().Count();
        Assert.True(all > 100);
        Assert.Equal(all, space.CountValidLayouts(stopAfter: long.MaxValue));
        Assert.Equal(100, space.CountValidLayouts(stopAfter: 100));
        Assert.Equal(space.Size - all, PlanSearch.Run(scenario, planning.Pins, top: 1).PrunedLayout);
    }

    [Fact]
    public void TheSpacesSize_IsTheProductOfItsChoices_TheExchangeOnlyAboveContextOne()
    {
        // Tensor 1, 2, 4, 8; context 1 and 2 to 64 (each with three exchanges unless pinned); pipeline and virtual
        // stages 1 to 10; micro-batch 1 to 32 in powers of two; sequence parallelism on or off; three recompute
        // policies; four ZeRO stages.
        var planning = Load(SmallScenario);
        var scenario = planning.Scenario;
        Assert.Equal(4L * (1 + (6 * 3)) * 10 * 10 * 6 * 2 * 3 * 4, new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins).Size);
        Assert.Equal(4L * (1 + 6) * 10 * 10 * 6 * 2 * 3 * 4,
            new PlanSpace(scenario.Cluster, scenario.Model, scenario.Job, planning.Pins with { ContextCommunication = ContextCommunication.AllGather }).Size);
    }

    [Fact]
    public void AnAllToAllExchangeNoLayoutCanSplit_IsTheReasonGiven()
    {
        // 8 key-value heads: tensor x context 16 cannot split them.
        var planning = Load(SmallScenario + "\nplan: {context: 16, context_communication: all-to-all}\n");
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 3);
        Assert.Empty(search.Plans);
        var reason = Assert.Single(search.Rejections);
        Assert.Contains("all-to-all context exchange needs tensor x context to divide the 16 attention heads and the 8 key-value heads", reason, StringComparison.Ordinal);
    }

    private static int CountSequenceParallelWithoutTensor(Scenario scenario)
    {
        var noTensor = PlanSearch.Run(scenario, PlanPins.None with { TensorParallelism = 1 }, top: 1);
        return (int)noTensor.Evaluated;
    }

    [Fact]
    public void PinnedFields_AreKeptInEveryRankedPlan()
    {
        var planning = Load(SmallScenario + "\nplan: {tensor: 2, recompute: full}\n");
        Assert.Equal(2, planning.Pins.TensorParallelism);
        Assert.Equal(RecomputePolicy.Full, planning.Pins.Recompute);
        Assert.Null(planning.Pins.PipelineParallelism);

        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 10);
        Assert.NotEmpty(search.Plans);
        Assert.All(search.Plans, ranked => Assert.Equal((2, RecomputePolicy.Full), (ranked.Plan.TensorParallelism, ranked.Plan.Recompute)));
    }

    [Fact]
    public void Ranking_IsSortedAndIdenticalFromRunToRun()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var first = PlanSearch.Run(scenario, PlanPins.None, top: 20);
        var second = PlanSearch.Run(scenario, PlanPins.None, top: 20);
        Assert.Equal(first.Plans.Select(ranked => (ranked.Plan, ranked.Result.StepTime)), second.Plans.Select(ranked => (ranked.Plan, ranked.Result.StepTime)));
        Assert.Equal((first.Evaluated, first.PrunedMemory, first.PrunedLayout), (second.Evaluated, second.PrunedMemory, second.PrunedLayout));
        Assert.True(first.Plans.Zip(first.Plans.Skip(1)).All(pair => pair.First.Result.StepTime <= pair.Second.Result.StepTime));
        Assert.Equal(first.Considered, first.Pruned + first.Evaluated);
    }

    [Fact]
    public void BestPlan_IsAtLeastAsFastAsTheExampleLayout_AndFits()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var search = PlanSearch.Run(scenario, PlanPins.SettingsOf(scenario.Plan), top: 1);
        var best = Assert.Single(search.Plans).Result;
        Assert.True(best.Fits);
        Assert.True(best.StepTime <= AnalyticalEngine.SimulateStep(scenario).StepTime);
    }

    [Fact]
    public void NothingFits_GivesNoPlans_AndSaysHowMuchWasPruned()
    {
        var planning = Load(SmallScenario.Replace("sequence_length: 4096", "sequence_length: 4194304", StringComparison.Ordinal).Replace("global_batch: 32", "global_batch: 16", StringComparison.Ordinal));
        var search = PlanSearch.Run(planning.Scenario, planning.Pins, top: 5);
        Assert.Empty(search.Plans);
        Assert.Null(search.Explanation);
        Assert.True(search.PrunedMemory > 0);
        Assert.Equal(0, search.Evaluated);
    }

    [Fact]
    public void Explanation_NamesTheBoundingPart_AndTheRunnerUpTrade()
    {
        var scenario = Repository.Example("gpt3-175b-h100-1024");
        var search = PlanSearch.Run(scenario, PlanPins.None, top: 2);
        var explanation = search.Explanation!;
        var breakdown = search.Plans[0].Result.Breakdown!;
        var largest = Math.Max(breakdown.Compute.Seconds + breakdown.Recompute.Seconds, breakdown.Parts().Where(part => part.Name is not ("compute" or "recompute")).Max(part => part.Time.Seconds));
        Assert.Equal(largest / breakdown.Total.Seconds, explanation.BoundShare, 12);
        Assert.Contains(PlanDescription.Differences(search.Plans[0].Plan, search.Plans[1].Plan), explanation.RunnerUp!, StringComparison.Ordinal);
    }

    [Fact]
    public void Divisors_AreAscendingAndComplete()
    {
        Assert.Equal([1, 2, 3, 4, 6, 8, 9, 12, 16, 18, 24, 36, 48, 72, 144], PlanSpace.Divisors(144));
        Assert.Equal([1], PlanSpace.Divisors(1));
        Assert.Equal([1, 7, 49], PlanSpace.Divisors(49));
    }

    [Fact]
    public void MemoryBinding_IsReportedOnlyWhenALayoutOverMemoryIsFaster()
    {
        var search = PlanSearch.Run(Repository.Example("gpt3-175b-h100-1024"), PlanPins.None, top: 1);
        var best = search.Plans[0].Result;
        var over = search.FasterOverMemory!;
        Assert.False(over.Result.Fits);
        Assert.True(over.Result.StepTime.Seconds <= best.StepTime.Seconds * (1 - PlanSearch.MemoryBindsAbove));
        Assert.Contains("memory binds", search.Explanation!.Summary, StringComparison.Ordinal);
        // Within reach of a chip of the next memory size: the search once named a layout needing 363 GiB of 80.
        Assert.True(over.Result.Memory!.Total <= best.MemoryCapacity * PlanSearch.MemoryBindsWithin, $"{over.Result.Memory.Total} against {best.MemoryCapacity}");
        Assert.True(over.Result.Memory.Total > best.MemoryCapacity);
    }

    [Fact]
    public void TheBestLayoutAsAScenarioBlock_LoadsBackAsTheSameLayout()
    {
        foreach (var (scenario, pins) in new[]
        {
            (SmallScenario, string.Empty),
            (SmallScenario, "\nplan: {context: 2, context_communication: all-gather, recompute: [layernorm, mlp]}\n"),
            (SmallScenario, "\nplan: {pipeline: 2, virtual_stages: 5, zero: 3, sequence_parallel: true, tensor: 2}\n"),
        })
        {
            var planning = Load(scenario + pins);
            var best = PlanSearch.Run(planning.Scenario, planning.Pins, top: 1).Plans[0].Plan;
            var block = PlanDescription.ScenarioBlock(best);
            var loaded = Load(scenario + "\n" + block + "\n").Scenario.Plan;
            Assert.Equal(PlanDescription.Of(best), PlanDescription.Of(loaded));
            Assert.Equal((best.ContextCommunication, best.RecomputeModules, best.Recompute), (loaded.ContextCommunication, loaded.RecomputeModules, loaded.Recompute));
        }
    }
}
