using System.Collections.Immutable;
using System.Globalization;
using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Numerics;
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
/// <param name="Router">The router's precision: bf16 or fp32.</param>
/// <param name="Measured">The device time of its kernels other than the router's multiply, forward and backward.</param>
/// <param name="Counted">The engine's time for its routing kernels at their fused traffic, forward and backward.</param>
public sealed record TimedRouting(string Model, int Tokens, int Hidden, int Experts, int PerToken, string Router, Duration Measured, Duration Counted)
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

    /// <summary>The router precision whose rows make the band's high end, where the file has them.</summary>
    public const string HighRouterPrecision = "fp32";

    /// <summary>
    /// The factor and its band's ends, each rounded to two decimals: the median of the BF16-router shapes, the least
    /// of them, and the median of the FP32-router shapes (the greatest BF16 one where none was timed); every shape
    /// taken; and how many rows were left out (failed, or with another router precision). A file from another chip
    /// than <paramref name="chip"/>, a row with an impossible figure, or a factor the catalogue would refuse is an
    /// error naming the file.
    /// </summary>
    public static (double Slowdown, UnfusedTokenRoutingRange Range, ImmutableArray<TimedRouting> Shapes, int Skipped) Fit(string path, Chip chip, ChipEfficiency efficiency)
    {
        ArgumentNullException.ThrowIfNull(chip);
        var (shapes, skipped) = Read(path, chip, efficiency);
        var central = shapes.Where(shape => shape.Router == RouterPrecision).Select(shape => shape.Slowdown).ToArray();
        if (central.Length == 0)
        {
            throw new InputException(path, $"no timed routing with the router in {RouterPrecision} (expected rows with router_dtype {RouterPrecision} and their kernels_seconds)");
        }

        var high = shapes.Where(shape => shape.Router == HighRouterPrecision).Select(shape => shape.Slowdown).ToArray();
        var (median, low, highEnd) = (Math.Round(Statistics.Median(central), 2), Math.Round(central.Min(), 2), Math.Round(high.Length > 0 ? Statistics.Median(high) : central.Max(), 2));
        var (least, most) = (TrainingFramework.LeastUnfusedTokenRouting, TrainingFramework.MostUnfusedTokenRouting);
        if (low < least || highEnd > most)
        {
            throw new InputException(path, $"the timings give the unfused routing {low.ToString("0.00", CultureInfo.InvariantCulture)} to {highEnd.ToString("0.00", CultureInfo.InvariantCulture)} times the fused kernels' time, outside {least} to {most}: the unfused path cannot be faster than the fused kernels, nor a hundred times slower (were the timings of another chip, or of the fused path?)");
        }

        return (median, new UnfusedTokenRoutingRange(low, Math.Max(highEnd, median)), shapes, skipped);
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
            var router = row.ValueKind == JsonValueKind.Object ? Text(row, "router_dtype") : null;
            if (row.ValueKind != JsonValueKind.Object || row.TryGetProperty("error", out _) || router is not (RouterPrecision or HighRouterPrecision))
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
            shapes.Add(new TimedRouting(Text(row, "model") ?? where, tokens, hidden, experts, perToken, router, Duration.FromSeconds(routing), counted));
        }

        return ([.. shapes], skipped);
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
        KernelCurveFit.CheckChip(name, name, capacity, chip);
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
