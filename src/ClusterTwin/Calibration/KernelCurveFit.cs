using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Numerics;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;

namespace ClusterTwin.Calibration;

/// <summary>One point of a measured curve: the median efficiency of the measurements near one size.</summary>
/// <param name="Size">The size in base units (operations or bytes), on a grid of half decades.</param>
/// <param name="Efficiency">The median achieved fraction of the peak.</param>
/// <param name="Samples">How many measurements the median is over.</param>
public sealed record MeasuredPoint(double Size, double Efficiency, int Samples);

/// <summary>One measured curve, under the key the family file writes it with.</summary>
/// <param name="Key">The family file's key (<c>matrix</c>, <c>attention_backward</c>...).</param>
/// <param name="Unit">The size's unit: FLOP or B.</param>
/// <param name="Points">The points, by size.</param>
public sealed record MeasuredCurve(string Key, string Unit, ImmutableArray<MeasuredPoint> Points)
{
    /// <summary>The curve the engine interpolates.</summary>
    public EfficiencyCurve Curve => new(Points.Select(point => (point.Size, point.Efficiency)));
}

/// <summary>
/// A family's curves as measured on one chip: matrix, the fused-attention ones (causal forward and backward, and
/// unmasked where timed), memory; with how many shapes each point rests on.
/// </summary>
/// <param name="Chip">The chip measured, whose peaks and memory bandwidth the efficiencies are fractions of.</param>
/// <param name="AttentionBackend">Which fused attention the attention curves measure.</param>
/// <param name="Curves">The curves, in the order the family file writes them.</param>
/// <param name="MemoryBound">Matrix shapes left out as memory-bound (their time is the memory curve's, not the matrix curve's).</param>
public sealed record KernelCurves(Chip Chip, string AttentionBackend, ImmutableArray<MeasuredCurve> Curves, int MemoryBound)
{
    /// <summary>The curve written under <paramref name="key"/>, or null where nothing was measured for it.</summary>
    public MeasuredCurve? this[string key] => Curves.FirstOrDefault(curve => curve.Key == key);
}

/// <summary>
/// Derives a family's curve shapes from kernel timings on one of its chips (<see cref="KernelMeasurements"/>), as the
/// engine applies them (<see cref="Performance.Kernels.KernelCost"/>): each point is the median efficiency of the
/// measurements within a quarter decade of it, on a grid of half decades.
/// </summary>
/// <remarks>
/// <list type="bullet">
/// <item>Memory: bytes moved over time, against the chip's memory bandwidth.</item>
/// <item>Matrix: operations over time, against the chip's peak at the multiply's precision (BF16 and FP8 pooled, the
/// engine's one curve serving both), from the shapes the memory curve does not explain. The engine times a multiply
/// as the slower of its compute and its traffic, so a shape whose traffic alone, at the memory curve, takes more than
/// <see cref="MemoryBoundShare"/> of its measured time says nothing about the matrix units and is left out.</item>
/// <item>Attention: the forward's operations over its time, and the backward's (<see cref="LayerKernels.FusedAttentionBackwardFactor"/>
/// times the forward's, as the engine counts it) over its own, both against the BF16 peak at which fused attention
/// runs and both by the forward's operations, which is how the engine reads them. Causal timings make
/// <c>attention</c> and <c>attention_backward</c>; timings without a mask, where there are any,
/// <c>attention_unmasked</c> and <c>attention_unmasked_backward</c>, which context-parallel ring steps between
/// different chunks run at.</item>
/// </list>
/// </remarks>
public static class KernelCurveFit
{
    /// <summary>The share of a multiply's measured time above which its traffic, at the memory curve, marks it memory-bound.</summary>
    public const double MemoryBoundShare = 0.8;

    /// <summary>The grid's step, in decades.</summary>
    public const double GridStep = 0.5;

    /// <summary>How far the measured GPU's memory may differ from the named chip's before the names are taken to disagree.</summary>
    public const double MemoryCapacityTolerance = 0.10;

    /// <summary>The attention implementation the training frameworks the family runs use, unless told otherwise.</summary>
    public const string DefaultAttentionBackend = "CUDNN_ATTENTION";

    /// <summary>
    /// Derives the curves from <paramref name="measurements"/> of <paramref name="chip"/>: all of them, or the attention
    /// curves alone from a file without multiplies and memory-bound kernels. Measurements of another chip (by memory
    /// capacity), a curve with no point, or a point outside (0, 1] are errors that name the likely cause.
    /// </summary>
    public static KernelCurves Fit(KernelMeasurements measurements, Chip chip, string attentionBackend = DefaultAttentionBackend)
    {
        CheckChip(measurements, chip);

        // A file of attention timings alone (a published benchmark, tools/import-attention-benchmark.py) measures the
        // attention curves and leaves the matrix and memory curves to the family's carried-over ones.
        var attentionOnly = measurements.Matrix.IsEmpty && measurements.Memory.IsEmpty;
        if (measurements.Memory.IsEmpty && !measurements.Matrix.IsEmpty)
        {
            throw new InputException("--kernels", "times multiplies but no memory-bound kernels: the memory curve tells the memory-bound multiplies from the rest (rerun tools/measure-kernels.py without --only)");
        }

        var (memory, matrix, memoryBound) = attentionOnly ? ([], [], 0) : MatrixAndMemory(measurements, chip);

        if (!measurements.Attention.Any(row => row.Backend == attentionBackend && row.Causal))
        {
            var found = measurements.Attention.Where(row => row.Causal).Select(row => row.Backend).Distinct().Order(StringComparer.Ordinal).ToArray();
            throw new InputException("--attention-backend", $"no timing of causal '{attentionBackend}' attention in the measurements (expected one of: {(found.Length > 0 ? string.Join(", ", found) : "none: the file has no causal attention timings")})");
        }

        var attentionPeak = chip.PeakRate(Precision.Bf16) ?? throw new InputException("--chip", $"{chip.Id} has no BF16 peak, at which fused attention runs");
        ImmutableArray<MeasuredPoint> Attention(bool causal, bool backward) => Points<Flops>(
            measurements.Attention.Where(row => row.Backend == attentionBackend && row.Causal == causal && row.HeadSize == AttentionHeadSize.Reference)
                .Select(row => (row.ForwardWork.Operations, backward
                    ? row.ForwardWork * LayerKernels.FusedAttentionBackwardFactor / row.BackwardTime / attentionPeak
                    : row.ForwardWork / row.ForwardTime / attentionPeak)), "FLOP");

        // The unmasked curves are written where unmasked attention was timed.
        static ImmutableArray<MeasuredPoint> Optional(string key, ImmutableArray<MeasuredPoint> points) => points.IsEmpty ? points : Checked(key, points);
        MeasuredCurve[] curves =
        [
            new("matrix", "FLOP", matrix),
            new("attention", "FLOP", Checked("attention", Attention(causal: true, backward: false))),
            new("attention_backward", "FLOP", Checked("attention_backward", Attention(causal: true, backward: true))),
            new("attention_unmasked", "FLOP", Optional("attention_unmasked", Attention(causal: false, backward: false))),
            new("attention_unmasked_backward", "FLOP", Optional("attention_unmasked_backward", Attention(causal: false, backward: true))),
            new("memory", "B", memory),
        ];
        return new KernelCurves(chip, attentionBackend, [.. curves.Where(curve => !curve.Points.IsEmpty)], memoryBound);
    }

    // The memory curve, and the matrix curve from the multiplies its memory curve does not explain.
    private static (ImmutableArray<MeasuredPoint> Memory, ImmutableArray<MeasuredPoint> Matrix, int MemoryBound) MatrixAndMemory(KernelMeasurements measurements, Chip chip)
    {
        var bandwidth = chip.MemoryBandwidth.Value;
        var memory = Checked("memory", Points<Bytes>(measurements.Memory.Select(row => (row.Traffic.Count, row.Traffic / row.Time / bandwidth)), "B"));
        var memoryCurve = new MeasuredCurve("memory", "B", memory).Curve;
        var computeBound = new List<(double, double)>();
        var memoryBound = 0;
        foreach (var row in measurements.Matrix)
        {
            var peak = chip.PeakRate(row.Precision)
                ?? throw new InputException("--chip", $"{chip.Id} has no {row.Precision.Key()} peak, but the measurements time {row.Precision.Key()} multiplies (measure the chip named, or name the chip measured)");
            var trafficTime = row.Traffic / (bandwidth * memoryCurve.At(row.Traffic.Count));
            if (trafficTime > row.Time * MemoryBoundShare)
            {
                memoryBound++;
                continue;
            }

            computeBound.Add((row.Work.Operations, row.Work / row.Time / peak));
        }

        if (measurements.Matrix.IsEmpty)
        {
            throw new InputException("--kernels", "times memory-bound kernels but no multiplies: a measurement writes the matrix and memory curves together, or neither (attention alone)");
        }

        return (memory, Checked("matrix", Points<Flops>(computeBound, "FLOP")), memoryBound);
    }

    /// <summary>
    /// Fails where <paramref name="measurements"/> come from a GPU whose memory differs from <paramref name="chip"/>'s
    /// by more than <see cref="MemoryCapacityTolerance"/>, or whose name shares no model word with the chip's ("GB300"
    /// against "NVIDIA GB200 Superchip, per B200 GPU", "MI300X" against an H100 of the same memory): the likely cause is
    /// that another chip was named.
    /// </summary>
    public static void CheckChip(KernelMeasurements measurements, Chip chip)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        CheckChip(measurements.DeviceName, measurements.Device, measurements.MemoryCapacity, chip);
    }

    /// <summary>
    /// The same check for any timings whose device is named <paramref name="deviceName"/> (described as
    /// <paramref name="device"/>) with <paramref name="memoryCapacity"/> of memory, where the file gives it.
    /// </summary>
    public static void CheckChip(string deviceName, string device, Bytes? memoryCapacity, Chip chip)
    {
        ArgumentNullException.ThrowIfNull(chip);
        if (memoryCapacity is { } measured && Math.Abs((measured / chip.MemoryCapacity.Value) - 1) > MemoryCapacityTolerance)
        {
            throw new InputException("--chip", $"the measurements come from a GPU with {Quantity.FormatLike(measured, chip.MemoryCapacity.Value)} of memory ({device}), but {chip.Id} has {Quantity.Format(chip.MemoryCapacity.Value)}: name the chip measured");
        }

        // Model words carry a digit (H100, GB300, MI300X); sizes and packages (80GB, HBM3, SXM5, a bare number), which
        // chips of different models share, do not count. A name without any says nothing either way.
        static string[] ModelWords(string name) =>
        [
            .. System.Text.RegularExpressions.Regex.Split(name, "[^A-Za-z0-9]+")
                .Where(word => word.Any(char.IsDigit) && !System.Text.RegularExpressions.Regex.IsMatch(word, "^([0-9]+(GB|W)?|HBM[0-9]*E?|SXM[0-9]*|PCIE[0-9]*|NVL[0-9]*)$", System.Text.RegularExpressions.RegexOptions.IgnoreCase)),
        ];
        var measuredWords = ModelWords(deviceName);
        if (measuredWords.Length > 0 && !measuredWords.Intersect(ModelWords(chip.Name), StringComparer.OrdinalIgnoreCase).Any())
        {
            throw new InputException("--chip", $"the measurements come from '{deviceName}' ({device}), which {chip.Id} ({chip.Name}) is not: name the chip measured");
        }
    }

    // A curve the catalogue can read: at least one point, each a fraction in (0, 1].
    private static ImmutableArray<MeasuredPoint> Checked(string key, ImmutableArray<MeasuredPoint> points)
    {
        if (points.IsEmpty)
        {
            throw new InputException("--kernels", $"no measurement makes a point of the {key} curve{(key == "matrix" ? " (every multiply was memory-bound)" : string.Empty)}");
        }

        if (points.FirstOrDefault(point => point.Efficiency is <= 0 or > 1) is { } wrong)
        {
            throw new InputException("--kernels", $"the {key} curve's point at {SizeText(wrong.Size, key == "memory" ? "B" : "FLOP")} is {wrong.Efficiency.ToString("G3", System.Globalization.CultureInfo.InvariantCulture)} of the peak, outside (0, 1]: the measurements are of a faster or slower chip than the one named, or were timed from a cache");
        }

        return points;
    }

    /// <summary>
    /// The median efficiency at each half decade that has measurements within a quarter decade of it. Sizes are the
    /// grid's as the catalogue writes them (<see cref="SizeText"/>), so that what is written reads back the same.
    /// </summary>
    private static ImmutableArray<MeasuredPoint> Points<T>(IEnumerable<(double Size, double Efficiency)> samples, string unit)
        where T : struct, IQuantity<T> =>
        [.. samples.GroupBy(sample => (int)Math.Round(Math.Log10(sample.Size) / GridStep))
            .OrderBy(group => group.Key)
            .Select(group => new MeasuredPoint(
                Quantity.Parse<T>(SizeText(Math.Pow(10, group.Key * GridStep), unit)).BaseValue,
                SignificantFigures(Statistics.Median(group.Select(sample => sample.Efficiency)), 3),
                group.Count()))];

    // Rounded to the given significant figures, so that a small efficiency is kept rather than rounded to zero.
    internal static double SignificantFigures(double value, int figures) =>
        value <= 0 || !double.IsFinite(value) ? value : Math.Round(value, Math.Clamp(figures - 1 - (int)Math.Floor(Math.Log10(value)), 0, 15));

    /// <summary>A size with a decimal prefix and four significant digits ("31.62 GFLOP", "316.2 kB").</summary>
    public static string SizeText(double size, string unit)
    {
        var (prefix, factor) = size switch
        {
            >= 1e15 => ("P", 1e15),
            >= 1e12 => ("T", 1e12),
            >= 1e9 => ("G", 1e9),
            >= 1e6 => ("M", 1e6),
            >= 1e3 => ("k", 1e3),
            _ => (string.Empty, 1.0),
        };
        return $"{(size / factor).ToString("G4", System.Globalization.CultureInfo.InvariantCulture)} {prefix}{unit}";
    }
}
