using ClusterTwin.Calibration;
using ClusterTwin.Catalog;
using ClusterTwin.Engines;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

/// <summary>The training framework's host launch time of expert multiplies: the floor, where it applies, its defaults and its fit.</summary>
public class ExpertLaunchTests
{
    private static readonly Duration Launch = Duration.FromSeconds(80e-6);
    private static readonly string[] FitCases = ["moezoo-h100-qwen3-235b-5", "mbridge2511-b200-qwen3_235b_a22b-64gpu-fp8-mx", "mbridge2511-gb200-deepseekv3-256gpu-fp8-mx"];

    private static KernelCost Cost(Duration launch)
    {
        var chip = Repository.Catalog.Chips["nvidia-h100-sxm"];
        var peak = chip.PeakRate(Precision.Bf16)!.Value;
        return new KernelCost(peak, peak, chip.MemoryBandwidth.Value, Repository.Catalog.EfficiencyFor(chip)) { ExpertLaunch = launch };
    }

    private static Kernel Multiply(double operations, int repeats, bool perExpert) =>
        new("expert up projection", KernelKind.Matrix, KernelRegion.Experts, Flops.FromOperations(operations), Bytes.FromCount(operations / 100), 2, repeats) { PerExpertLaunch = perExpert };

    private static ValidationCase Case(string id) => ValidationCaseLoader.Load(Repository.Path("validation", "cases", id + ".yaml"), Repository.Catalog);

    /// <summary>Megatron-Core with known launch times, 55 us and 25 us more under scaled formats.</summary>
    private static TrainingFramework Truth => Repository.Catalog.TrainingFrameworks["megatron-core"] with { ExpertLaunch = Duration.FromSeconds(55e-6), ExpertQuantizeLaunch = Duration.FromSeconds(25e-6) };

    /// <summary>The fit cases, each measured as the model predicts it on the framework <paramref name="frameworkOf"/> gives its index.</summary>
    private static ValidationCase[] MeasuredOn(Func<int, TrainingFramework> frameworkOf) => [.. FitCases
        .Select(Case)
        .Select((item, index) => item with { Measured = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = frameworkOf(index) })) })];

    /// <summary>The model zoo's host-bound BF16 run (moezoo-h100-qwen3-235b-5) with its framework as catalogued and as <paramref name="edit"/> leaves it.</summary>
    private static (Scenario Scenario, TrainingStepResult With, TrainingStepResult Without) HostBoundRun(Func<TrainingFramework, TrainingFramework> edit)
    {
        var scenario = Case("moezoo-h100-qwen3-235b-5").Scenario;
        return (scenario, AnalyticalEngine.Simulate(scenario), AnalyticalEngine.Simulate(scenario with { Framework = edit(scenario.Framework) }));
    }

    [Fact]
    public void ShortExpertMultiplies_TakeTheLaunchTime_EachRunForwardAndBackward()
    {
        var small = Multiply(1e8, repeats: 16, perExpert: true);
        var cost = Cost(Launch);
        Assert.True(Cost(Duration.Zero).Forward(small) < Launch * 16, "the case needs multiplies shorter than the launch");
        Assert.Equal((Launch * 16).Seconds, cost.Forward(small).Seconds, 12);
        Assert.Equal((Launch * 32).Seconds, cost.Backward(small).Seconds, 12);
    }

    [Fact]
    public void LongMultiplies_AndKernelsNotLaunchedPerExpert_KeepTheirRoofline()
    {
        var large = Multiply(1e13, repeats: 4, perExpert: true);
        var shared = Multiply(1e8, repeats: 1, perExpert: false);
        Assert.Equal(Cost(Duration.Zero).Forward(large), Cost(Launch).Forward(large));
        Assert.Equal(Cost(Duration.Zero).Backward(shared), Cost(Launch).Backward(shared));
    }

    [Fact]
    public void AHostRunningAhead_PaysNoFloorPerRun_AndCountsItsLaunches()
    {
        var small = Multiply(1e8, repeats: 16, perExpert: true);
        var ahead = Cost(Launch) with { HostRunsAhead = true };
        Assert.Equal(Cost(Duration.Zero).Times(small), ahead.Times(small));
        Assert.Equal((Launch * 16, Launch * 32), ahead.HostTimes(small));
        Assert.Equal((Duration.Zero, Duration.Zero), ahead.HostTimes(Multiply(1e8, repeats: 1, perExpert: false)));
    }

    [Fact]
    public void DropAndPad_LetsTheHostRunAhead_SoOnlyLaunchesBeyondTheLayersDeviceWorkShow()
    {
        // Dropless, the host waits for each layer's tokens per expert and the chip for each launch; with a capacity the
        // launches hide behind the layer's other work until they outlast it.
        var original = Case("moezoo-h100-qwen3-235b-5").Scenario;
        // A launch longer than each expert multiply (so the dropless chip waits for every one) but, over the layer,
        // shorter than its device work.
        var dropless = original with { Framework = original.Framework with { ExpertLaunch = Duration.FromSeconds(40e-6) } };
        // Megatron-Core drops and pads in its alltoall dispatcher only.
        var padded = dropless with { Job = dropless.Job with { ExpertCapacityFactor = 1.0, ForcedLoadBalance = false }, Plan = dropless.Plan with { ExpertDispatch = ExpertDispatch.AllToAll } };
        Assert.True(AnalyticalEngine.Simulate(dropless).Breakdown!.HostLaunchWait > Duration.Zero, "the case needs launch-bound expert multiplies");
        var free = AnalyticalEngine.Simulate(padded with { Framework = padded.Framework with { ExpertLaunch = Duration.Zero } });
        var ahead = AnalyticalEngine.Simulate(padded);
        var waiting = AnalyticalEngine.Simulate(padded with { Framework = padded.Framework with { ExpertLaunch = Duration.FromSeconds(400e-6) } });
        Assert.Equal(free.StepTime, ahead.StepTime);
        Assert.Equal(Duration.Zero, ahead.Breakdown!.HostLaunchWait);
        Assert.True(waiting.Breakdown!.HostLaunchWait > Duration.Zero && waiting.StepTime > ahead.StepTime);
        Assert.True(AnalyticalEngine.Simulate(dropless).StepTime > ahead.StepTime * 1.05);
    }

    [Fact]
    public void ARunningAheadHost_WaitsAgainInAFullRecompute()
    {
        // B200 Qwen3-235B in 25.09: sixteen local experts, token dropping, launch-bound even with the host ahead. A full
        // recompute replays each layer's forward, launches included: about a third more waiting (the forward's one
        // launch per multiply beside the backward's two).
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "supplementary", "megatron-bridge-25.09", "mbridge2509-b200-qwen3_235b_a22b-64gpu-fp8.yaml"), Repository.Catalog).Scenario;
        var ahead = AnalyticalEngine.Simulate(scenario).Breakdown!;
        Assert.True(ahead.HostLaunchWait > Duration.Zero, "the case needs launch-bound passes");
        var recomputed = AnalyticalEngine.Simulate(scenario with { Plan = scenario.Plan with { Recompute = RecomputePolicy.Full } }).Breakdown!;
        Assert.InRange(recomputed.HostLaunchWait / ahead.HostLaunchWait, 1.2, 1.6);
        Assert.True(recomputed.Recompute > Duration.Zero);
    }

    [Fact]
    public void WholeLayerCudaGraphs_LaunchNothingPerExpert_AndNeedDropAndPad()
    {
        var dropless = Case("moezoo-h100-qwen3-235b-5").Scenario;
        // A launch long enough for the padded layers to be host-bound even with the host running ahead.
        var padded = dropless with
        {
            Job = dropless.Job with { ExpertCapacityFactor = 1.0, ForcedLoadBalance = false },
            Plan = dropless.Plan with { ExpertDispatch = ExpertDispatch.AllToAll },
            Framework = dropless.Framework with { ExpertLaunch = Duration.FromSeconds(400e-6) },
        };
        var graphed = padded with { Job = padded.Job with { CudaGraphs = CudaGraphs.WholeLayers } };
        Assert.Equal(Duration.Zero, graphed.Framework.ExpertLaunchFor(graphed.Job));
        Assert.True(padded.Framework.ExpertLaunchFor(padded.Job) > Duration.Zero);
        var unlaunched = AnalyticalEngine.Simulate(padded with { Framework = padded.Framework with { ExpertLaunch = Duration.Zero } });
        Assert.Equal(unlaunched.StepTime, AnalyticalEngine.Simulate(graphed).StepTime);
        Assert.True(AnalyticalEngine.Simulate(padded).StepTime > unlaunched.StepTime, "the case needs host-bound expert launches");

        // Dropless routing has no fixed shapes to capture.
        var refused = AnalyticalEngine.Simulate(dropless with { Job = dropless.Job with { CudaGraphs = CudaGraphs.WholeLayers } });
        Assert.False(refused.Valid);
        Assert.Contains(refused.Problems, problem => problem.Contains("expert_capacity_factor", StringComparison.Ordinal));
    }

    [Fact]
    public void AScenarioNamesItsCudaGraphs_AndAnUnknownScopeIsAClearError()
    {
        using var folder = new TemporaryFolder();
        const string Id = "nemo2504-gb200-mixtral-8x7b-64gpu-fp8";
        var text = File.ReadAllText(Repository.Path("validation", "supplementary", "nemo-2.0", Id + ".yaml"));
        Assert.Contains("cuda_graphs: layers", text, StringComparison.Ordinal);
        Assert.Equal(CudaGraphs.WholeLayers, ValidationCaseLoader.Load(folder.Write(Id + ".yaml", text), Repository.Catalog).Scenario.Job.CudaGraphs);
        Assert.Equal(CudaGraphs.None, Case("moezoo-h100-qwen3-235b-5").Scenario.Job.CudaGraphs);
        var error = Assert.Throws<InputException>(() => ValidationCaseLoader.Load(folder.Write(Id + ".yaml", text.Replace("cuda_graphs: layers", "cuda_graphs: attention", StringComparison.Ordinal)), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("scenario.training.cuda_graphs", diagnostic.Field);
        Assert.Contains("layers", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void OnlyTheRoutedExperts_AreLaunchedPerExpert()
    {
        var scenario = Case("moezoo-h100-qwen3-235b-5").Scenario;
        var kernels = LayerKernels.Forward(scenario.Model, scenario.Job, scenario.Plan, expertLayer: true);
        var perExpert = kernels.Where(kernel => kernel.PerExpertLaunch).ToArray();
        Assert.Equal(2, perExpert.Length);
        Assert.All(perExpert, kernel => Assert.Equal(KernelKind.Matrix, kernel.Kind));
        Assert.All(perExpert, kernel => Assert.StartsWith("expert ", kernel.Name, StringComparison.Ordinal));
    }

    [Fact]
    public void ScaledFormats_AddTheQuantizeLaunch()
    {
        var framework = new TrainingFramework { Id = "f", Name = "f", Provenance = "test", ExpertLaunch = Launch, ExpertQuantizeLaunch = Duration.FromSeconds(30e-6) };
        var job = new TrainingJob(4096, 1024, null, Precision.Bf16, AttentionKernel.Flash);
        Assert.Equal(Launch, framework.ExpertLaunchFor(job));
        Assert.Equal(110e-6, framework.ExpertLaunchFor(job with { Format = NumberFormat.All["mxfp8"] }).Seconds, 12);
    }

    [Fact]
    public void ManySmallExperts_SlowTheStep_AndAFrameworkWithoutLaunchesDoesNot()
    {
        var scenario = Case("moezoo-h100-qwen3-235b-5").Scenario;
        Assert.Equal("megatron-core", scenario.Framework.Id);
        var eager = AnalyticalEngine.SimulateStep(scenario).StepTime;
        var compiled = AnalyticalEngine.SimulateStep(scenario with { Framework = TrainingFramework.None }).StepTime;
        Assert.True(eager > compiled * 1.2, $"{eager} against {compiled}");

        var dense = Repository.Example("gpt3-175b-h100-1024");
        // The same framework without its launch times: a dense model has no expert multiply to launch.
        var withoutLaunches = dense.Framework with { ExpertLaunch = Duration.Zero, ExpertQuantizeLaunch = Duration.Zero };
        Assert.Equal(AnalyticalEngine.SimulateStep(dense with { Framework = withoutLaunches }).StepTime, AnalyticalEngine.SimulateStep(dense).StepTime);
    }

    [Fact]
    public void TheWaitForLaunches_IsShownApartFromCompute()
    {
        var scenario = Case("moezoo-h100-qwen3-235b-5").Scenario;
        var eager = AnalyticalEngine.SimulateStep(scenario).Breakdown!;
        var compiled = AnalyticalEngine.SimulateStep(scenario with { Framework = TrainingFramework.None }).Breakdown!;
        Assert.Equal(compiled.Compute.Seconds, eager.Compute.Seconds, 9);
        Assert.Equal(Duration.Zero, compiled.HostLaunchWait);
        Assert.True(eager.HostLaunchWait > compiled.Total * 0.2, $"{eager.HostLaunchWait}");
        Assert.Equal(Duration.Zero, AnalyticalEngine.SimulateStep(Repository.Example("gpt3-175b-h100-1024")).Breakdown!.HostLaunchWait);
    }

    [Theory]
    [InlineData("gpt3-175b-h100-1024", "megatron-core")]
    [InlineData("llama3-405b-trainium3-1m", "neuronx-distributed")]
    public void AScenarioNamingNoFramework_RunsOnItsVendorsDefault(string example, string framework) =>
        Assert.Equal(framework, Repository.Example(example).Framework.Id);

    [Fact]
    public void AScenario_MayNameItsFramework_AndAnUnknownOneIsAClearError()
    {
        using var folder = new TemporaryFolder();
        var text = File.ReadAllText(Repository.Path("examples", "gpt3-175b-h100-1024.yaml"));
        var named = ScenarioLoader.Load(folder.Write("named.yaml", text.Replace("training:\n", "training:\n  framework: maxtext\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Equal("maxtext", named.Framework.Id);
        Assert.True(named.FrameworkNamed);
        Assert.False(Repository.Example("gpt3-175b-h100-1024").FrameworkNamed);
        var roofline = ScenarioLoader.Load(folder.Write("none.yaml", text.Replace("training:\n", "training:\n  framework: none\n", StringComparison.Ordinal)), Repository.Catalog);
        Assert.Same(TrainingFramework.None, roofline.Framework);

        var error = Assert.Throws<InputException>(() => ScenarioLoader.Load(folder.Write("unknown.yaml", text.Replace("training:\n", "training:\n  framework: deepspeed\n", StringComparison.Ordinal)), Repository.Catalog));
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("training.framework", diagnostic.Field);
        Assert.Contains("unknown training framework 'deepspeed'", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("megatron-core", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TwoFrameworks_DefaultForOneVendor_AreACatalogueError()
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/maxtext.yaml", "default_for_vendors: [Google]", "default_for_vendors: [Google, NVIDIA]");
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Message.Contains("vendor 'NVIDIA' is the default of several frameworks", StringComparison.Ordinal));
    }

    [Fact]
    public void AnAbsurdLaunchTime_IsACatalogueError()
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/maxtext.yaml", "expert_launch: 0 us", "expert_launch: 70 s");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("expert_launch", diagnostic.Field);
        Assert.Contains("expected at most 10 ms", diagnostic.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("realized: 0.43", "realized: 1.4", "expert_overlap.realized", "expected 0 to 1")]
    [InlineData("  communication_compute_share: 0.1515\n", "", "expert_overlap.communication_compute_share", "missing (expected a number from 0 to 1)")]
    [InlineData("  low: 0.", "  low: 1.", "expert_launch_spread.low", "expected 0 to 1")]
    [InlineData("  high: 2.", "  high: 200.", "expert_launch_spread.high", "expected 1 to 100")]
    [InlineData("unfused_token_routing: 4.", "unfused_token_routing: 0.", "unfused_token_routing", "expected 1 to 100")]
    [InlineData("  low: 3.94", "  low: 5.94", "unfused_token_routing_range.low", "expected 1 to 4.5")]
    [InlineData("  high: 6.61", "  high: 3.61", "unfused_token_routing_range.high", "expected 4.5 to 100")]
    [InlineData("unfused_token_routing: 4.50", "# no factor", "unfused_token_routing_range", "a range without the unfused_token_routing it surrounds")]
    public void AnOverlapLaunchSpreadOrRoutingFactorOutsideItsRange_OrIncomplete_IsACatalogueError(string from, string to, string field, string message)
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/megatron-core.yaml", from, to);
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal(field, diagnostic.Field);
        Assert.Contains(message, diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void AVendorNoChipHas_IsACatalogueError()
    {
        var error = CatalogEdits.LoadWithChange("training-frameworks/megatron-core.yaml", "default_for_vendors: [NVIDIA, AMD]", "default_for_vendors: [Nvidia, AMD]");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("default_for_vendors", diagnostic.Field);
        Assert.Contains("'Nvidia' is no chip's vendor", diagnostic.Message, StringComparison.Ordinal);
        Assert.Contains("NVIDIA", diagnostic.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void TheFit_RecoversTheLaunchTimes_ThatMadeTheMeasurements()
    {
        // Cases whose measurements are the model's own predictions at known launch times: one in BF16 and two in
        // scaled formats, so that both times are identifiable.
        var truth = Truth;
        var cases = MeasuredOn(_ => truth);

        var result = TrainingFrameworkCalibration.Fit(truth with { ExpertLaunch = Duration.Zero, ExpertQuantizeLaunch = Duration.Zero }, cases, "test")!;
        Assert.Equal(55e-6, result.ExpertLaunch.Seconds, 9);
        Assert.Equal(25e-6, result.ExpertQuantizeLaunch.Seconds, 9);
        Assert.True(result.Fit.MeanAbsoluteErrorPercent < 1e-6, $"{result.Fit.MeanAbsoluteErrorPercent}%");
        Assert.Equal(3, result.HeldOutPredicted.Count);
        // Every case wants the fitted times exactly: no spread.
        Assert.Equal(new ExpertLaunchSpread(1, 1, 3), result.Spread);
    }

    [Fact]
    public void TheSpread_IsOfWhatEachBoundRunWants_OverTheFittedTimes()
    {
        // Two cases measured at known times and one at twice its least time: the fit settles between them, so the
        // third wants more than the fitted times and the others about them or less; no case wants more than twice.
        var truth = Truth;
        var slower = truth.WithExpertLaunchesScaled(2);
        var cases = MeasuredOn(index => index == 0 ? slower : truth);

        var spread = TrainingFrameworkCalibration.Fit(truth, cases, "test")!.Spread!;
        Assert.Equal(3, spread.Runs);
        Assert.InRange(spread.Low, 0.9, 1.0);
        Assert.InRange(spread.High, 1.1, 2.0);
    }

    [Fact]
    public void AHostBoundMixtureOfExperts_Band_CarriesTheLaunchSpread_AndAGraphedOneDoesNot()
    {
        var (scenario, withSpread, withoutSpread) = HostBoundRun(framework => framework with { ExpertLaunchSpread = null });
        var spread = scenario.Framework.ExpertLaunchSpread!;
        Assert.Equal(withoutSpread.StepTime, withSpread.StepTime);
        Assert.True(withSpread.StepTimeLow < withoutSpread.StepTimeLow && withSpread.StepTimeHigh > withoutSpread.StepTimeHigh, $"{withSpread.StepTimeLow} - {withSpread.StepTimeHigh}");
        var slow = AnalyticalEngine.SimulateStep(scenario with { Framework = scenario.Framework.WithExpertLaunchesScaled(spread.High) }).StepTime;
        Assert.True(withSpread.StepTimeHigh >= slow * (1 - 1e-12), $"{withSpread.StepTimeHigh} against {slow}");
        Assert.Contains(withSpread.BandSources, source => source.StartsWith("expert launch times", StringComparison.Ordinal));

        // The same run as whole-layer CUDA graphs (which need drop-and-pad) launches nothing per expert: nothing to move.
        var graphed = scenario with
        {
            Job = scenario.Job with { CudaGraphs = CudaGraphs.WholeLayers, ExpertCapacityFactor = 1.0, ForcedLoadBalance = false },
            Plan = scenario.Plan with { ExpertDispatch = ExpertDispatch.AllToAll },
        };
        Assert.DoesNotContain(AnalyticalEngine.Simulate(graphed).BandSources, source => source.StartsWith("expert launch times", StringComparison.Ordinal));
    }

    [Fact]
    public void UnderAScaledFormat_TheSpreadScalesTheQuantizeLaunchToo()
    {
        // B200 Qwen3-235B in MXFP8, host-bound: the band's slow end is the step with both times scaled, slower than
        // with the launch alone scaled.
        var scenario = Case("mbridge2511-b200-qwen3_235b_a22b-64gpu-fp8-mx").Scenario;
        var framework = scenario.Framework;
        var high = framework.ExpertLaunchSpread!.High;
        Duration Step(TrainingFramework edited) => AnalyticalEngine.SimulateStep(scenario with { Framework = edited }).StepTime;
        var both = Step(framework.WithExpertLaunchesScaled(high));
        var launchOnly = Step(framework with { ExpertLaunch = framework.ExpertLaunch * high });
        Assert.True(both > launchOnly, $"{both} against {launchOnly}");
        Assert.True(AnalyticalEngine.Simulate(scenario).StepTimeHigh >= both * (1 - 1e-12));
    }

    [Fact]
    public void ACaseKeptAsACheck_StaysOutOfTheFit()
    {
        var truth = Repository.Catalog.TrainingFrameworks["megatron-core"] with { ExpertLaunch = Duration.FromSeconds(55e-6), ExpertQuantizeLaunch = Duration.FromSeconds(25e-6) };
        var fitted = FitCases.Select(Case).Select(item => item with { Measured = item.Predicted(AnalyticalEngine.SimulateStep(item.Scenario with { Framework = truth })) }).ToArray();
        // A run the constants are checked on, not fitted on: its measurement, far from the others', must not move them.
        var run = Case("moezoo-h100-qwen3-235b-1");
        var check = run with { Measured = run.Measured * 3, NotFrameworkFitted = "a check" };

        var result = TrainingFrameworkCalibration.Fit(truth, [.. fitted, check], "test")!;
        Assert.Equal(55e-6, result.ExpertLaunch.Seconds, 9);
        Assert.Equal(25e-6, result.ExpertQuantizeLaunch.Seconds, 9);
        Assert.DoesNotContain(check.Id, result.Fit.FittedOn);
        Assert.False(result.HeldOutPredicted.ContainsKey(check.Id));
    }

    [Fact]
    public void AFittedCase_ValidatedAlone_IsHeldOutOfARefitOnAllTheOthers()
    {
        // validate --cases with one of the framework's runs: the held-out refit uses every run the constants were
        // fitted on, not only the ones being validated.
        var all = CatalogCases();
        var framework = Repository.Catalog.TrainingFrameworks["megatron-core"];
        var expected = TrainingFrameworkCalibration.Fit(framework, all, "test")!.HeldOutPredicted["moezoo-h100-qwen3-235b-5"];
        var alone = Case("moezoo-h100-qwen3-235b-5");
        var outcome = CrossValidation.WithHeldOut(Repository.Catalog, ValidationRun.Run([alone]), () => all).Single();
        Assert.Equal(expected, outcome.HeldOutPredicted!.Value, 9);
        Assert.NotEqual(outcome.Predicted, outcome.HeldOutPredicted!.Value);
    }

    private static ValidationCase[] CatalogCases() => [.. Repository.CalibrationCases];

    [Fact]
    public void AnEditedCopyOfAFittedCase_IsHeldOutAsGiven()
    {
        // validate --cases with a copy under the same id but another scenario: the held-out prediction is of the copy.
        var original = Case("moezoo-h100-qwen3-235b-5");
        var edited = original with { Scenario = original.Scenario with { Job = original.Scenario.Job with { GlobalBatchSize = original.Scenario.Job.GlobalBatchSize * 2 } } };
        double HeldOut(ValidationCase item) => CrossValidation.WithHeldOut(Repository.Catalog, ValidationRun.Run([item]), CatalogCases).Single().HeldOutPredicted!.Value;
        Assert.InRange(HeldOut(edited) / HeldOut(original), 1.8, 2.1);
    }

    [Fact]
    public void TheCataloguedLaunchTimes_AreTheFitOfTheRepositorysCases()
    {
        // Published and supplementary cases together, as clustertwin calibrate --framework reads them: a change to
        // either that is not followed by a refit fails here, and so does a stale list of the cases it was fitted on.
        var framework = Repository.Catalog.TrainingFrameworks["megatron-core"];
        var result = TrainingFrameworkCalibration.Fit(framework, Repository.CalibrationCases, "test")!;
        Assert.Equal(framework.ExpertLaunch, result.ExpertLaunch);
        Assert.Equal(framework.ExpertQuantizeLaunch, result.ExpertQuantizeLaunch);
        Assert.Equal(string.Join(", ", framework.Fit!.FittedOn), string.Join(", ", result.Fit.FittedOn));
        Assert.Equal(framework.Fit.MeanAbsoluteErrorPercent, result.Fit.MeanAbsoluteErrorPercent, 2);
        Assert.Equal(framework.ExpertLaunchSpread, result.Spread);
        Assert.DoesNotContain(Repository.CalibrationCases, item => !item.FrameworkFitted && result.Fit.FittedOn.Contains(item.Id));
    }

    [Fact]
    public void AMixtureOfExperts_Band_IsNoNarrowerThanItsFrameworksFittedRuns()
    {
        var (scenario, withFit, withoutFit) = HostBoundRun(framework => framework with { Fit = null });
        var fit = scenario.Framework.Fit!;
        Assert.Equal(withoutFit.StepTime, withFit.StepTime);
        Assert.True(withFit.StepTimeLow <= withoutFit.StepTimeLow && withFit.StepTimeHigh >= withoutFit.StepTimeHigh);
        Assert.True(withFit.StepTimeLow <= withFit.StepTime * Math.Exp(fit.ResidualLow!.Value) * (1 + 1e-12), $"{withFit.StepTimeLow}");
        Assert.Contains(withFit.BandSources, source => source.Contains("mixture-of-experts runs", StringComparison.Ordinal));
    }
}
