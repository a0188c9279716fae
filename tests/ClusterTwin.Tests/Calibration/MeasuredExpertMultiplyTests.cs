using System.Text.Json.Nodes;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using Xunit;

namespace ClusterTwin.Tests.Calibration;

/// <summary>
/// The engine's matrix curve at an expert layer's shapes against the same multiplies timed on a Hopper GPU
/// (<c>measurements/nvidia-h200-sxm-grouped-experts-2026-11-27.json</c>, <c>tools/measure-kernels.py --only grouped-experts</c>):
/// the expert layers of Qwen3-30B-A3B, Qwen3-235B, DeepSeek-V3 and Mixtral 8x7B, forward and backward, one multiply per
/// expert as the engine counts them, each timed as the profiler's records of its multiply kernels alone.
/// </summary>
public sealed class MeasuredExpertMultiplyTests
{
    private sealed record Row(string Model, double Hidden, double FeedForward, int LocalExperts, double TokensPerExpert, string Way, Duration MultiplyKernels, Duration Layer, Duration Wall);

    private static readonly Lazy<Row[]> Rows = new(() => [.. JsonNode.Parse(File.ReadAllText(Repository.Path("measurements", "nvidia-h200-sxm-grouped-experts-2026-11-27.json")))!["grouped_experts"]!
        .AsArray().Select(row => row!.AsObject())
        .Select(row => new Row((string)row["model"]!, (double)row["hidden"]!, (double)row["feed_forward"]!, (int)row["local_experts"]!, (double)row["tokens_per_expert"]!, (string)row["way"]!,
            Duration.FromSeconds((double)row["multiply_kernels_seconds"]!), Duration.FromSeconds((double)row["graph_seconds"]!), Duration.FromSeconds((double)row["wall_seconds"]!)))]);

    private static Row[] Ways(string way) => [.. Rows.Value.Where(row => row.Way == way)];

    /// <summary>
    /// The engine's time for a row's multiplies on the Hopper family's measured curve, without the fitted level (which
    /// stands for everything a whole step adds to its kernels): each expert's gated up-projection and down-projection,
    /// forward and backward, BF16, counted as LayerKernels counts a multiply (2 x rows x inner x columns operations).
    /// </summary>
    private static double EngineOverKernels(Row row)
    {
        var chip = Repository.Catalog.Chips["nvidia-h200-sxm"];
        var peak = chip.PeakRate(Precision.Bf16)!.Value;
        var cost = new KernelCost(peak, peak, chip.MemoryBandwidth.Value, Repository.Catalog.EfficiencyFor(chip).WithFit(EfficiencyFit.None));
        Kernel Multiply(double rows, double inner, double columns) => new("expert multiply", KernelKind.Matrix, KernelRegion.Experts,
            Flops.FromOperations(2 * rows * inner * columns), Bytes.FromCount(((rows * inner) + (inner * columns) + (rows * columns)) * 2), 2, row.LocalExperts);
        var times = new[] { Multiply(row.TokensPerExpert, row.Hidden, 2 * row.FeedForward), Multiply(row.TokensPerExpert, row.FeedForward, row.Hidden) }.Select(kernel => cost.Times(kernel));
        return times.Aggregate(Duration.Zero, (sum, time) => sum + time.Forward + time.Backward) / row.MultiplyKernels;
    }

    [Fact]
    public void ExpertsOf1536AndWider_TakeOnTheCurveWithinTwelvePercentOfTheirKernels()
    {
        // Qwen3-235B, DeepSeek-V3 and Mixtral 8x7B, 128 to 4,096 tokens per expert, 1 to 32 local experts: the curve,
        // timed on dense multiplies, gives 0.91 to 1.12 times the expert kernels' time.
        var rows = Ways("per-expert").Where(row => row.FeedForward >= 1536).ToArray();
        Assert.Equal(24, rows.Length);
        Assert.All(rows, row => Assert.InRange(EngineOverKernels(row), 0.88, 1.15));
    }

    [Fact]
    public void NarrowExperts_AreCostedSlowerThanTheyRun_TheOneDimensionalCurvesLimit()
    {
        // Qwen3-30B-A3B's experts are 768 wide: the curve, read at each multiply's operations, gives 1.17 to 1.35 times
        // the kernels' time. Its points near a few GFLOP are the median of every timed shape of that work; multiplies with
        // a short inner dimension run faster than that median.
        var rows = Ways("per-expert").Where(row => row.FeedForward < 1536).ToArray();
        Assert.Equal(6, rows.Length);
        Assert.All(rows, row => Assert.InRange(EngineOverKernels(row), 1.1, 1.4));
    }

    [Fact]
    public void OneGroupedKernel_BeatsTheLoopOnTheDevice_OnlyForShortNarrowExperts_AndStillWaitsOnTheHostThere()
    {
        // Why the engine costs a grouped expert layer one expert at a time: a grouped kernel (torch._grouped_mm) runs
        // the multiplies 1.35-2.25 times faster only for Qwen3-30B-A3B's narrow experts at 512 tokens or fewer and for
        // 128-token experts, 16 or 32 of them, of Qwen3-235B; everywhere else within 0.87-1.08 of the loop.
        var pairs = Ways("per-expert")
            .Select(loop => (Loop: loop, Grouped: Ways("grouped").Single(row => row.Model == loop.Model && row.LocalExperts == loop.LocalExperts && row.TokensPerExpert == loop.TokensPerExpert)))
            .ToArray();
        bool Short((Row Loop, Row Grouped) pair) => (pair.Loop.FeedForward < 1536 && pair.Loop.TokensPerExpert <= 512) || (pair.Loop.TokensPerExpert == 128 && pair.Loop.LocalExperts >= 16);
        Assert.Equal(6, pairs.Count(Short));
        Assert.All(pairs.Where(Short), pair => Assert.InRange(pair.Loop.MultiplyKernels / pair.Grouped.MultiplyKernels, 1.3, 2.5));
        Assert.All(pairs.Where(pair => !Short(pair)), pair => Assert.InRange(pair.Loop.MultiplyKernels / pair.Grouped.MultiplyKernels, 0.85, 1.1));

        // The host: where a layer's experts are short the loop waits on it, its wall-clock 1.7 to 6.3 times its
        // device time; grouping cuts the launches to six, but Qwen3-30B-A3B's grouped layer at 128 tokens per expert
        // still waits on the host (its wall-clock 2.3 and 3.9 times its device time).
        Assert.All(pairs.Where(pair => pair.Loop.TokensPerExpert <= 512 && pair.Loop.LocalExperts >= 8), pair => Assert.True(pair.Loop.Wall / pair.Loop.Layer > 1.5));
        Assert.All(pairs.Where(pair => pair.Loop.FeedForward < 1536 && pair.Loop.TokensPerExpert == 128), pair => Assert.True(pair.Grouped.Wall / pair.Grouped.Layer > 1.5));
    }
}
