using System.Text.Json.Nodes;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Tests.Support;
using ClusterTwin.Units;
using Xunit;

namespace ClusterTwin.Tests.Calibration;

/// <summary>
/// The engine's cost of an expert layer's multiplies against the same multiplies timed on a Hopper GPU
/// (<c>measurements/nvidia-h200-sxm-grouped-experts-2026-11-27.json</c>, <c>tools/measure-kernels.py --only grouped-experts</c>):
/// the expert shapes of Qwen3-30B-A3B, Qwen3-235B, DeepSeek-V3 and Mixtral 8x7B, forward and backward, one multiply
/// per expert as the engine counts them, replayed as a CUDA graph so that only the device's time is in the figure.
/// </summary>
public sealed class MeasuredExpertMultiplyTests
{
    private sealed record Row(string Model, double Hidden, double FeedForward, int LocalExperts, double TokensPerExpert, string Way, Duration Device, Duration Wall);

    private static readonly Lazy<Row[]> Rows = new(() => [.. JsonNode.Parse(File.ReadAllText(Repository.Path("measurements", "nvidia-h200-sxm-grouped-experts-2026-11-27.json")))!["grouped_experts"]!
        .AsArray().Select(row => row!.AsObject())
        .Select(row => new Row((string)row["model"]!, (double)row["hidden"]!, (double)row["feed_forward"]!, (int)row["local_experts"]!, (double)row["tokens_per_expert"]!, (string)row["way"]!,
            Duration.FromSeconds((double)row["graph_seconds"]!), Duration.FromSeconds((double)row["wall_seconds"]!)))]);

    /// <summary>The engine's device time of a row's layer: each expert's gated up-projection and down-projection, forward and backward, at BF16.</summary>
    private static Duration EngineTime(Row row)
    {
        var chip = Repository.Catalog.Chips["nvidia-h200-sxm"];
        var peak = chip.PeakRate(Precision.Bf16)!.Value;
        var cost = new KernelCost(peak, peak, chip.MemoryBandwidth.Value, Repository.Catalog.EfficiencyFor(chip));
        Kernel Multiply(double rows, double inner, double columns) => new("expert multiply", KernelKind.Matrix, KernelRegion.Experts,
            Flops.FromOperations(2 * rows * inner * columns), Bytes.FromCount(((rows * inner) + (inner * columns) + (rows * columns)) * 2), 2, row.LocalExperts) { PerExpertLaunch = true };
        var times = new[] { Multiply(row.TokensPerExpert, row.Hidden, 2 * row.FeedForward), Multiply(row.TokensPerExpert, row.FeedForward, row.Hidden) }.Select(kernel => cost.Times(kernel));
        return times.Aggregate(Duration.Zero, (sum, time) => sum + time.Forward + time.Backward);
    }

    [Fact]
    public void PerExpertMultiplies_AtTheValidationSetsTokensPerExpert_CostWithinTwentyPercentOfTheMeasuredKernels()
    {
        // The validation's mixture-of-experts runs give each local expert 512 to 32,768 tokens of a micro-batch. There,
        // the engine's one-dimensional matrix curve (each expert's multiply at its operations) over the fitted Hopper
        // level gives 0.98 to 1.24 times the kernels' own time: the level's margin over raw kernels, as for dense layers.
        var rows = Rows.Value.Where(row => row.Way == "per-expert" && row.TokensPerExpert >= 512).ToArray();
        Assert.Equal(22, rows.Length);
        Assert.All(rows, row =>
        {
            var ratio = EngineTime(row) / row.Device;
            Assert.True(ratio is >= 0.95 and <= 1.25, $"{row.Model}, {row.LocalExperts} experts of {row.TokensPerExpert} tokens: the engine takes {ratio:F2} times the measured kernels");
        });
    }

    [Fact]
    public void PerExpertMultiplies_OfAFewHundredTokens_AreCostedFasterThanTheyRun_TheCurvesKnownLimit()
    {
        // At 128 and 256 tokens per expert a multiply fills few of the 132 multiprocessors whatever its operations: a
        // one-dimensional curve reads it as a square multiply of the same work, and is 12-30% short. No validation run
        // sits there (serving's decode does, where reading the experts' weights bounds the step, and the serving
        // model costs them as a whole).
        var rows = Rows.Value.Where(row => row.Way == "per-expert" && row.TokensPerExpert <= 256).ToArray();
        Assert.Equal(8, rows.Length);
        Assert.All(rows, row => Assert.InRange(EngineTime(row) / row.Device, 0.6, 0.9));
    }

    [Fact]
    public void OneGroupedKernel_BeatsTheLoopOnTheDevice_OnlyWhereEachExpertIsShort_AndLeavesTheHostOneCallPerMultiply()
    {
        // Why the engine costs a grouped expert layer one expert at a time (Megatron-Core's Transformer Engine path on
        // Hopper issues one multiply per expert): a grouped kernel (torch._grouped_mm) runs short experts 1.1-2.5 times
        // faster on the device; from 1,024 tokens each it runs as the loop does, within 10%, but for Qwen3-30B-A3B's
        // narrow experts (768 wide), which it still runs 20% faster at 2,048.
        var pairs = Rows.Value.Where(row => row.Way == "per-expert")
            .Select(loop => (Loop: loop, Grouped: Rows.Value.Single(row => row.Way == "grouped" && row.Model == loop.Model && row.LocalExperts == loop.LocalExperts && row.TokensPerExpert == loop.TokensPerExpert)))
            .ToArray();
        Assert.All(pairs.Where(pair => pair.Loop.TokensPerExpert >= 1024), pair => Assert.InRange(pair.Loop.Device / pair.Grouped.Device, 0.9, pair.Loop.FeedForward < 1024 ? 1.25 : 1.1));
        Assert.All(pairs.Where(pair => pair.Loop.TokensPerExpert <= 512 && pair.Loop.LocalExperts >= 8), pair => Assert.True(pair.Loop.Device / pair.Grouped.Device > 1.1));

        // The host: the loop's wall-clock exceeds its device time by far where experts are short (each multiply a
        // launch of its own, 50-70 us on this host); the grouped layer's wall-clock is within 2.5 times its device time everywhere.
        Assert.All(pairs.Where(pair => pair.Loop.TokensPerExpert <= 512 && pair.Loop.LocalExperts >= 8), pair => Assert.True(pair.Loop.Wall / pair.Loop.Device > 1.5));
        Assert.All(pairs, pair => Assert.True(pair.Grouped.Wall / pair.Grouped.Device < 2.5));
    }
}
