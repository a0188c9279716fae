using ClusterTwin.Engines.Analytical;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Scenarios;
using ClusterTwin.Tests.Support;
using ClusterTwin.Validation;
using ClusterTwin.Workloads;

namespace ClusterTwin.Tests.Engines;

/// <summary>Sliding-window and chunked attention (GPT-OSS, Llama 4): which layers, how many query-key pairs, and what a step costs.</summary>
public class LocalAttentionTests
{
    /// <summary>GPT-OSS 120B on 64 GB200 as Megatron-Bridge 25.11 ran it (EP64, 8,192 tokens): a supplementary case.</summary>
    private static Scenario GptOss() => ValidationCaseLoader.Load(
        Repository.Path("validation", "supplementary", "megatron-bridge-25.11", "mbridge2511-gb200-gpt-oss-120b-64gpu-bf16.yaml"), Repository.Catalog).Scenario;

    [Theory]
    [InlineData(2, 0, 36, 18)]   // GPT-OSS: sliding, full, sliding, ...
    [InlineData(2, 1, 9, 4)]     // a pipeline stage of 9 layers from layer 1: full first
    [InlineData(2, 0, 9, 5)]
    [InlineData(4, 0, 48, 36)]   // Llama 4: three chunked layers of four
    [InlineData(4, 3, 1, 0)]     // layer 3 (the fourth) is global
    [InlineData(4, 4, 3, 3)]
    public void LocalLayersIn_CountsThePattern(int globalEvery, int start, int count, int local)
    {
        var attention = new LocalAttention(LocalAttentionKind.Sliding, 128, globalEvery);
        Assert.Equal(local, attention.LocalLayersIn(start, count));
        var byLayer = Enumerable.Range(start, count).Count(layer => (layer + 1) % globalEvery != 0);
        Assert.Equal(byLayer, attention.LocalLayersIn(start, count));
    }

    [Theory]
    [InlineData(LocalAttentionKind.Sliding, 128, 8192)]
    [InlineData(LocalAttentionKind.Sliding, 4096, 32768)]
    [InlineData(LocalAttentionKind.Chunked, 8192, 32768)]
    [InlineData(LocalAttentionKind.Chunked, 8192, 20000)]
    public void CausalPairs_MatchesCountingEachQuery(LocalAttentionKind kind, int window, int sequence)
    {
        // Each query i sees the keys of its window (i - W, i], or of its chunk up to itself.
        double counted = 0;
        for (var query = 0; query < sequence; query++)
        {
            counted += kind == LocalAttentionKind.Sliding ? Math.Min(query + 1, window) : (query % window) + 1;
        }

        // The kernels count half of each causal square: every query's own key counts a half, so the sum over queries
        // is half a key per query above their count (the window's first rows alone for a sliding window).
        var halfDiagonal = kind == LocalAttentionKind.Sliding ? window / 2.0 : sequence / 2.0;
        Within.Relative(counted - halfDiagonal, new LocalAttention(kind, window, 2).CausalPairs(sequence), 1e-12);
    }

    [Theory]
    [InlineData(LocalAttentionKind.Sliding)]
    [InlineData(LocalAttentionKind.Chunked)]
    public void CausalPairs_WindowCoveringTheSequence_IsFullCausalAttention(LocalAttentionKind kind) =>
        Assert.Equal(4096.0 * 4096 / 2, new LocalAttention(kind, 8192, 2).CausalPairs(4096));

    [Fact]
    public void GptOss_WindowCoveringTheSequence_CostsAsFullAttention()
    {
        var scenario = GptOss();
        var windowless = scenario with { Model = scenario.Model with { LocalAttention = null } };
        var covering = scenario with { Model = scenario.Model with { LocalAttention = new LocalAttention(LocalAttentionKind.Sliding, 8192, 2) } };
        var expected = AnalyticalEngine.Simulate(windowless);
        var actual = AnalyticalEngine.Simulate(covering);
        Within.Relative(expected.StepTime.Seconds, actual.StepTime.Seconds, 1e-12);
        Within.Relative(expected.ModelFlopsPerStep.Operations, actual.ModelFlopsPerStep.Operations, 1e-12);
    }

    [Fact]
    public void GptOss_SlidingLayers_SaveTheirAttentionWork()
    {
        var scenario = GptOss();
        var model = scenario.Model;
        var windowless = scenario with { Model = model with { LocalAttention = null } };
        var sliding = AnalyticalEngine.Simulate(scenario);
        var full = AnalyticalEngine.Simulate(windowless);
        Assert.True(sliding.StepTime < full.StepTime);

        // Model FLOPs: each of the 18 sliding layers' queries sees at most 128 keys instead of 8,192, forward and backward.
        double sequence = scenario.Job.SequenceLength;
        var perKey = 2.0 * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize);
        var saved = 3 * scenario.Job.TokensPerStep * 18 * perKey * (sequence - 128);
        Within.Relative(saved, full.ModelFlopsPerStep.Operations - sliding.ModelFlopsPerStep.Operations, 1e-9);

        // The work the chips execute falls by the fused kernels' share: 18 layers, half the causal square less the window's pairs.
        var pairs = (sequence * sequence / 2) - ((128 * sequence) - (128.0 * 128 / 2));
        var kernelSaved = scenario.Job.GlobalBatchSize * 18 * perKey * pairs * (1 + LayerKernels.FusedAttentionBackwardFactor);
        Within.Relative(kernelSaved, (full.HardwareFlopsPerStep - sliding.HardwareFlopsPerStep).Operations, 1e-6);
    }

    [Theory]
    [InlineData(ClusterTwin.Parallelism.ContextCommunication.AllToAll, 0.5)]   // each chip: the whole sequence for half the heads
    [InlineData(ClusterTwin.Parallelism.ContextCommunication.AllGather, 0.5)]  // each chip: its chunks against the gathered keys
    [InlineData(ClusterTwin.Parallelism.ContextCommunication.Ring, -1.0)]      // a ring passes every block: costed as full attention
    public void UnderContextParallelism_ALocalLayerComputesItsShareOfTheWindow(ClusterTwin.Parallelism.ContextCommunication exchange, double share)
    {
        var scenario = GptOss();
        static double Attention(ClusterTwin.Workloads.ModelArchitecture model, TrainingJob job, ClusterTwin.Parallelism.ParallelPlan plan, bool local) =>
            LayerKernels.Forward(model, job, plan, expertLayer: true, localAttention: local).Where(kernel => kernel.Kind == KernelKind.FusedAttention).Sum(kernel => kernel.TotalWork.Operations);
        var alone = Attention(scenario.Model, scenario.Job, scenario.Plan, local: true);
        var split = scenario.Plan with { ContextParallelism = 2, ContextCommunication = exchange };
        var actual = Attention(scenario.Model, scenario.Job, split, local: true);
        Within.Relative(share > 0 ? alone * share : Attention(scenario.Model, scenario.Job, split, local: false), actual, 1e-12);
    }

    [Fact]
    public void Llama4_ChunkedLayers_AreCostedBelowFullAttentionAtLongContext()
    {
        var model = Repository.Catalog.Models["llama4-maverick"];
        Assert.Equal(36, model.LocalAttentionLayerCount);
        var job = new TrainingJob(65536, 64, null, ClusterTwin.Hardware.Precision.Bf16, AttentionKernel.Flash, false);
        var chunked = AnalyticalEngine.ModelFlops(model, job, causalAttention: true).Operations;
        var full = AnalyticalEngine.ModelFlops(model with { LocalAttention = null }, job, causalAttention: true).Operations;
        // 36 chunked layers: a query sees on average 4,096 keys causally instead of 32,768.
        var perKey = 2.0 * model.AttentionHeads * (model.QueryKeyHeadSize + model.ValueHeadSize);
        Within.Relative(3.0 * job.TokensPerStep * 36 * perKey * (32768 - 4096), full - chunked, 1e-9);
    }

    [Theory]
    [InlineData("gpt-oss-120b", 18, 36)]   // layer_types: sliding, full, ... (36 layers)
    [InlineData("llama4-maverick", 36, 48)] // three chunked layers of four
    [InlineData("gemma3-27b", 52, 62)]     // sliding_window_pattern 6: five local, then one global; the 62nd is local
    public void CatalogueModels_CountTheirLocalLayers(string id, int local, int layers)
    {
        var model = Repository.Catalog.Models[id];
        Assert.Equal(layers, model.Layers);
        Assert.Equal(local, model.LocalAttentionLayerCount);
    }

    [Theory]
    [InlineData("global_every: 2", "global_every: 40", "leaves none of the 36 layers")]
    [InlineData("kind: sliding", "kind: diagonal", "diagonal")]
    [InlineData("window: 128", "window: 0", "expected 1 to")]
    public void Reader_RefusesABadLocalAttention(string from, string to, string message)
    {
        var error = CatalogEdits.LoadWithChange("models/gpt-oss-120b.yaml", from, to);
        Assert.Contains(error.Diagnostics, diagnostic => diagnostic.Field.StartsWith("local_attention.", StringComparison.Ordinal) && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }
}
