using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using ClusterTwin.Workloads;

namespace ClusterTwin.Calibration;

/// <summary>One timed routing path: its shape, what it measured and what the engine counts for it.</summary>
/// <param name="Model">The model whose shape it times.</param>
/// <param name="Tokens">Tokens on the chip.</param>
/// <param name="Hidden">The model's hidden size.</param>
/// <param name="Experts">Routed experts.</param>
/// <param name="PerToken">Experts each token is routed to (top-k).</param>
/// <param name="Measured">The device time of its kernels other than the router's multiply, forward and backward.</param>
/// <param name="Counted">The engine's time for its routing kernels at their fused traffic, forward and backward.</param>
public sealed record TimedRouting(string Model, int Tokens, int Hidden, int Experts, int PerToken, Duration Measured, Duration Counted)
{
    /// <summary>The measured time over the counted one.</summary>
    public double Slowdown => Measured / Counted;
}

/// <summary>
/// The unfused token routing's cost against the fused kernels' traffic, from timings of Megatron-Core's unfused path
/// on a chip (<c>tools/measure-kernels.py --only moe-routing</c>): for each timed shape with the router in BF16 (the
/// model's precision, Megatron-Core's default <c>moe_router_dtype</c>), the device time of every kernel but the
/// router's multiply, forward and backward, over the engine's time for the router's softmax and top-k, the permutation
/// and the unpermutation on the same chip; the factor is the median over the shapes.
/// </summary>
public static class TokenRoutingFit
{
    /// <summary>The router precision whose rows make the factor.</summary>
    public const string RouterPrecision = "bf16";

    /// <summary>
    /// The factor, rounded to two decimals; every shape it was taken over; and how many rows were left out (failed, or
    /// with the router in another precision). A file from another chip than <paramref name="chip"/>, a row with an
    /// impossible figure, or a factor the catalogue would refuse is an error naming the file.
    /// </summary>
    public static (double Slowdown, ImmutableArray<TimedRouting> Shapes, int Skipped) Fit(string path, Chip chip, ChipEfficiency efficiency)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var (shapes, skipped) = Read(path, chip, efficiency);
        var ratios = shapes.Select(shape => shape.Slowdown).Order().ToArray();
        var median = Math.Round(ratios.Length % 2 == 1 ? ratios[ratios.Length / 2] : (ratios[(ratios.Length / 2) - 1] + ratios[ratios.Length / 2]) / 2, 2);
        return median is >= TrainingFramework.LeastUnfusedTokenRouting and <= TrainingFramework.MostUnfusedTokenRouting
            ? (median, shapes, skipped)
            : throw new InputException(path, $"the timings give the unfused routing {median.ToString("0.00", CultureInfo.InvariantCulture)} times the fused kernels' time, outside {TrainingFramework.LeastUnfusedTokenRouting} to {TrainingFramework.MostUnfusedTokenRouting}: the unfused path cannot be faster than the fused kernels, nor a hundred times slower (were the timings of another chip, or of the fused path?)");
    }

    private static (ImmutableArray<TimedRouting> Shapes, int Skipped) Read(string path, Chip chip, ChipEfficiency efficiency)
    {
        using var document = MeasurementFile.Open(path, "routing timings", "tools/measure-kernels.py --only moe-routing");
        var root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("moe_routing", out var rows) || rows.ValueKind != JsonValueKind.Array)
        {
            throw new InputException(path, "expected a JSON object with a moe_routing list (the file tools/measure-kernels.py --only moe-routing writes)");
        }

        CheckChip(root, chip);
        var peak = chip.PeakRate(Precision.Bf16) ?? throw new InputException("--chip", $"{chip.Id} has no BF16 peak rate, at which the engine costs the routing");
        var cost = new KernelCost(peak, peak, chip.MemoryBandwidth.Value, efficiency);
        var (shapes, skipped, index) = (new List<TimedRouting>(), 0, 0);
        foreach (var row in rows.EnumerateArray())
        {
            var where = $"moe_routing[{index++}]";
            if (row.ValueKind != JsonValueKind.Object || row.TryGetProperty("error", out _) || Text(row, "router_dtype") != RouterPrecision)
            {
                skipped++;
                continue;
            }

            var (tokens, hidden, experts, perToken) = (Count(row, "tokens", path, where), Count(row, "hidden", path, where), Count(row, "experts", path, where), Count(row, "top_k", path, where));
            if (!row.TryGetProperty("kernels_seconds", out var kernels) || kernels.ValueKind != JsonValueKind.Object || !kernels.EnumerateObject().Any())
            {
                throw new InputException(path, $"{where}.kernels_seconds: missing or empty (expected each kernel's seconds, as the script records them)");
            }

            var routing = kernels.EnumerateObject().Where(kernel => !IsMultiply(kernel.Name)).Sum(kernel => Seconds(kernel, path, where));
            var (_, scores, permutation, unpermutation) = LayerKernels.Routing(tokens, hidden, new ExpertLayers(experts, perToken, 1), 2, 2);
            var counted = new[] { scores, permutation, unpermutation }.Select(kernel => cost.Times(kernel)).Aggregate(Duration.Zero, (sum, time) => sum + time.Forward + time.Backward);
            shapes.Add(new TimedRouting(Text(row, "model") ?? where, tokens, hidden, experts, perToken, Duration.FromSeconds(routing), counted));
        }

        return shapes.Count > 0 ? ([.. shapes], skipped) : throw new InputException(path, $"no timed routing with the router in {RouterPrecision} (expected rows with router_dtype {RouterPrecision} and their kernels_seconds)");
    }

    // The file's device, where it says its name and memory, must be the chip named (as for curve timings).
    private static void CheckChip(JsonElement root, Chip chip)
    {
        if (!root.TryGetProperty("device", out var device) || device.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        var name = Text(device, "name") ?? string.Empty;
        var capacity = device.TryGetProperty("memory_bytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number && bytes.TryGetDouble(out var count) && count > 0 ? Bytes.FromCount(count) : (Bytes?)null;
        KernelCurveFit.CheckChip(new KernelMeasurements(name, string.Empty, [], [], []) { DeviceName = name, MemoryCapacity = capacity }, chip);
    }

    private static double Seconds(JsonProperty kernel, string path, string where) =>
        kernel.Value.ValueKind == JsonValueKind.Number && kernel.Value.TryGetDouble(out var seconds) && double.IsFinite(seconds) && seconds >= 0
            ? seconds
            : throw new InputException(path, $"{where}.kernels_seconds.{kernel.Name}: expected a number of seconds, 0 or more");

    // Words of a matrix multiply's kernel name: cuBLAS's (nvjet, xmma, gemm, its split-K reduction).
    private static readonly string[] MultiplyWords = ["gemm", "nvjet", "xmma", "splitKreduce"];

    private static bool IsMultiply(string name) => MultiplyWords.Any(word => name.Contains(word, StringComparison.OrdinalIgnoreCase));

    private static string? Text(JsonElement row, string key) => row.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    private static int Count(JsonElement row, string key, string path, string where) =>
        row.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var count) && count > 0
            ? count
            : throw new InputException(path, $"{where}.{key}: expected a positive whole number");
}
