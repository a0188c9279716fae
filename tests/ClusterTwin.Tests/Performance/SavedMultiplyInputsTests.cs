using ClusterTwin.Engines.Analytical;
using ClusterTwin.Hardware;
using ClusterTwin.Parallelism;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Performance.Memory;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Performance;

/// <summary>
/// What a framework keeps of a low-precision multiply's input for the backward pass: Transformer Engine keeps the cast
/// copy, torchao's float8 linear the BF16 input.
/// </summary>
public class SavedMultiplyInputsTests
{
    private static readonly ModelArchitecture Llama70 = Repository.Catalog.Models["llama3-70b"];

    private static TrainingJob Job(string format) =>
        new TrainingJob(8192, 256, null, Precision.Bf16, AttentionKernel.Flash) with { Format = NumberFormat.All[format] };

    private static readonly ParallelPlan TensorFour = new(4, 1, 16, 1, SequenceParallelism: true);

    private static double Stored(ModelArchitecture model, TrainingJob job, ParallelPlan plan, SavedMultiplyInputs saved, bool expertLayer = false) =>
        MemoryModel.ActivationsPerLayer(model, job, plan, expertLayer, saved).Stored;

    [Fact]
    public void UnderBf16_BothKindsKeepTheSame()
    {
        var job = Job("bf16");
        Assert.Equal(Stored(Llama70, job, TensorFour, SavedMultiplyInputs.HighPrecision), Stored(Llama70, job, TensorFour, SavedMultiplyInputs.Quantized));
        Assert.Equal(2, MemoryModel.SavedInputBytes(job, SavedMultiplyInputs.Quantized));
    }

    [Theory]
    [InlineData("fp8", 1.0)]
    [InlineData("mxfp8", 1.0 + (1.0 / 32))]
    [InlineData("nvfp4", 0.5 + (1.0 / 16))]
    public void UnderALowPrecisionFormat_ADenseLayerKeepsItsMultiplyInputsCast_AndTheAttentionOutputInBf16(string format, double cast)
    {
        var job = Job(format);
        Assert.Equal(cast, MemoryModel.SavedInputBytes(job, SavedMultiplyInputs.Quantized));
        Assert.Equal(2, MemoryModel.SavedInputBytes(job, SavedMultiplyInputs.HighPrecision));
        var saved = Stored(Llama70, job, TensorFour, SavedMultiplyInputs.HighPrecision) - Stored(Llama70, job, TensorFour, SavedMultiplyInputs.Quantized);

        // Per token, over the tensor group (sequence parallelism splits the norm outputs too): the query-key-value and
        // first feed-forward inputs (h each) and the second feed-forward input (f) go from 2 bytes to the format's. The
        // attention output stays in BF16, kept once: the output projection saves its original input.
        double tokens = 8192, h = 8192, f = 28672, t = 4;
        Within.Relative(tokens * ((2 * h) + f) * (2 - cast) / t, saved, 1e-12);

        // Without sequence parallelism the norm outputs are whole on every rank; the feed-forward width still splits.
        var unsplit = TensorFour with { SequenceParallelism = false };
        var savedUnsplit = Stored(Llama70, job, unsplit, SavedMultiplyInputs.HighPrecision) - Stored(Llama70, job, unsplit, SavedMultiplyInputs.Quantized);
        Within.Relative(tokens * ((2 * h) + (f / t)) * (2 - cast), savedUnsplit, 1e-12);
    }

    [Fact]
    public void AnExpertLayer_KeepsTheRoutersInputInBf16_AndCastsTheExpertsInputs()
    {
        var qwen = Repository.Catalog.Models["qwen3-235b-a22b"];
        var job = Job("fp8") with { SequenceLength = 4096 };
        var plan = new ParallelPlan(4, 1, 8, 1, SequenceParallelism: true, ExpertParallelism: 8);
        double Saved(ParallelPlan variant) =>
            Stored(qwen, job, variant, SavedMultiplyInputs.HighPrecision, expertLayer: true) - Stored(qwen, job, variant, SavedMultiplyInputs.Quantized, expertLayer: true);

        // With the expert block recomputed it keeps nothing of its own: only the query-key-value input is cast (one
        // byte saved per element of h). Were the router's input cast too, twice that.
        var blockRecomputed = plan with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.Experts };
        double tokens = 4096, h = qwen.HiddenSize, t = 4;
        Within.Relative(tokens * h / t, Saved(blockRecomputed), 1e-12);
        // Kept, the experts' inputs (h) and the activation's output (the expert width) are cast as well, for the token
        // copies the busiest chip receives.
        var experts = qwen.MixtureOfExperts!;
        var received = LayerKernels.RoutedTokens(job, plan) * experts.PerToken * LayerKernels.LoadImbalance(experts, job, plan);
        Within.Relative(received * (h + experts.FeedForwardSize), Saved(plan) - Saved(blockRecomputed), 1e-12);
    }

    private static readonly ModelArchitecture DeepSeek = Repository.Catalog.Models["deepseek-v3"];

    /// <summary>DeepSeek-V3 at 4,096 tokens, tensor 2 with sequence parallelism, expert 8.</summary>
    private static readonly ParallelPlan DeepSeekPlan = new(2, 1, 8, 1, SequenceParallelism: true, ExpertParallelism: 8);

    private static ParallelPlan Replaying(RecomputeModules modules) => DeepSeekPlan with { Recompute = RecomputePolicy.Selective, RecomputeModules = modules };

    [Fact]
    public void LatentAttention_KeepsItsProjectionsInputsCast_AndDropsTheUpProjectionsWithMlaUpProj()
    {
        var job = Job("fp8") with { SequenceLength = 4096 };
        double tokens = 4096, h = 7168, f = 18432, latents = 1536 + 512, t = 2;
        // A dense layer (DeepSeek-V3's first three): the feed-forward input (h, split by sequence parallelism), the second
        // feed-forward input (f, split) and the latents after their norms (replicated) go from 2 bytes to 1. The norm
        // output feeds two down-projections, query and key-value, which keep a byte each where BF16 shared one 2-byte
        // tensor: nothing saved there.
        var saved = Stored(DeepSeek, job, DeepSeekPlan, SavedMultiplyInputs.HighPrecision) - Stored(DeepSeek, job, DeepSeekPlan, SavedMultiplyInputs.Quantized);
        Within.Relative(tokens * ((h / t) + (f / t) + latents), saved, 1e-12);

        // mla_up_proj drops the cast latents with the queries, keys and values: under FP8, 1 byte each instead of 2.
        var upProjections = Replaying(RecomputeModules.LatentUpProjections);
        var freedCast = Stored(DeepSeek, job, DeepSeekPlan, SavedMultiplyInputs.Quantized) - Stored(DeepSeek, job, upProjections, SavedMultiplyInputs.Quantized);
        var freedBf16 = Stored(DeepSeek, job, DeepSeekPlan, SavedMultiplyInputs.HighPrecision) - Stored(DeepSeek, job, upProjections, SavedMultiplyInputs.HighPrecision);
        Within.Relative(tokens * latents, freedBf16 - freedCast, 1e-12);
    }

    [Theory]
    [InlineData(SavedMultiplyInputs.HighPrecision, 2.0)]
    [InlineData(SavedMultiplyInputs.Quantized, 1.0)]
    public void ASharedExpert_KeepsItsOwnCastCopyOfTheNormOutput_WhichItsRecomputeFrees(SavedMultiplyInputs kind, double cast)
    {
        var job = Job("fp8") with { SequenceLength = 4096 };
        var experts = DeepSeek.MixtureOfExperts!;
        double tokens = 4096, h = 7168, shared = experts.Shared * experts.FeedForwardSize, t = 2;
        var freed = Stored(DeepSeek, job, DeepSeekPlan, kind, expertLayer: true) - Stored(DeepSeek, job, Replaying(RecomputeModules.SharedExperts), kind, expertLayer: true);
        // SwiGLU's gate and up (BF16) and product (the second multiply's input, cast); under FP8 the shared expert's first
        // multiply keeps its own cast copy of the norm output too (in BF16 it shares the router's).
        var copy = cast < 2 ? tokens * h * cast / t : 0;
        Within.Relative((tokens * ((2 * 2) + cast) * shared / t) + copy, freed, 1e-12);
    }

    [Fact]
    public void RecomputingTheRoutedExpertsActivation_FreesItsCastOutput()
    {
        // Under MXFP8 the second expert multiply keeps its input at 1 + 1/32 bytes; moe_act replays the activation and
        // keeps none of it (Megatron-Core sets that multiply to save its original input, which the replay discards).
        var job = Job("mxfp8") with { SequenceLength = 4096 };
        var experts = DeepSeek.MixtureOfExperts!;
        var received = LayerKernels.RoutedTokens(job, DeepSeekPlan) * experts.PerToken * LayerKernels.LoadImbalance(experts, job, DeepSeekPlan);
        var freed = Stored(DeepSeek, job, DeepSeekPlan, SavedMultiplyInputs.Quantized, expertLayer: true) -
                    Stored(DeepSeek, job, Replaying(RecomputeModules.ExpertActivation), SavedMultiplyInputs.Quantized, expertLayer: true);
        Within.Relative(received * experts.FeedForwardSize * (1 + (1.0 / 32)), freed, 1e-12);
    }

    [Fact]
    public void RecomputingADenseFeedForwardBlock_FreesItsCastInput_AndItsIntermediates()
    {
        var job = Job("fp8");
        var freed = Stored(Llama70, job, TensorFour, SavedMultiplyInputs.Quantized) -
                    Stored(Llama70, job, TensorFour with { Recompute = RecomputePolicy.Selective, RecomputeModules = RecomputeModules.FeedForward }, SavedMultiplyInputs.Quantized);
        double tokens = 8192, h = 8192, f = 28672, t = 4;
        Within.Relative((tokens * h * 1 / t) + (tokens * ((2 * 2) + 1) * f / t), freed, 1e-12);
    }

    [Fact]
    public void TheEngine_KeepsWhatTheScenariosFrameworkKeeps()
    {
        var scenario = ValidationCaseLoader.Load(Repository.Path("validation", "cases", "mbridge2511-gb300-llama3-70b-64gpu-fp8-cs.yaml"), Repository.Catalog).Scenario;
        Assert.Equal(SavedMultiplyInputs.Quantized, scenario.Framework.SavedMultiplyInputs);
        Scenario With(SavedMultiplyInputs saved) => scenario with { Framework = scenario.Framework with { SavedMultiplyInputs = saved } };
        var cast = AnalyticalEngine.SimulateStep(scenario).Memory!;
        var bf16 = AnalyticalEngine.SimulateStep(With(SavedMultiplyInputs.HighPrecision)).Memory!;
        Assert.True(cast.Activations < bf16.Activations, $"{cast.Activations} against {bf16.Activations}");
        Assert.Equal(cast.Weights, bf16.Weights);
        // Published: the run fits in its 288 GB; keeping BF16 inputs, the model would put it over.
        Assert.True(cast.Total < Repository.Catalog.Chips["nvidia-gb300"].MemoryCapacity.Value, $"{cast.Total}");
        Assert.True(bf16.Total > Repository.Catalog.Chips["nvidia-gb300"].MemoryCapacity.Value, $"{bf16.Total}");
    }

    [Fact]
    public void TheFrameworksKind_IsCatalogueData_AndAnUnknownKindIsAnError()
    {
        Assert.Equal(SavedMultiplyInputs.Quantized, Repository.Catalog.TrainingFrameworks["megatron-core"].SavedMultiplyInputs);
        Assert.Equal(SavedMultiplyInputs.HighPrecision, Repository.Catalog.TrainingFrameworks["pytorch-fsdp"].SavedMultiplyInputs);

        var error = CatalogEdits.LoadWithChange("training-frameworks/megatron-core.yaml", "saved_multiply_inputs: quantized", "saved_multiply_inputs: fp8");
        var diagnostic = Assert.Single(error.Diagnostics);
        Assert.Equal("saved_multiply_inputs", diagnostic.Field);
        Assert.Contains("quantized", diagnostic.Message, StringComparison.Ordinal);
    }
}
