using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using ClusterTwin.Validation;

namespace ClusterTwin.Calibration;

/// <summary>One point of a measured curve: the median efficiency of the measurements near one size.</summary>
/// <param name="Size">The size in base units (operations or bytes), on a grid of half decades.</param>
/// <param name="Efficiency">The median achieved fraction of the peak.</param>
/// <param name="Samples">How many measurements the median is over.</param>
public sealed record MeasuredPoint(double Size, double Efficiency, int Samples);

/// <summary>A family's matrix, attention and memory curves as measured on one chip, with how many shapes each point rests on.</summary>
/// <param name="Chip">The chip measured, whose peaks and memory bandwidth the efficiencies are fractions of.</param>
/// <param name="AttentionBackend">Which fused attention the attention curve measures.</param>
/// <param name="Matrix">The matrix curve's points, by operations per multiply.</param>
/// <param name="Attention">The attention curve's points, by operations of the forward.</param>
/// <param name="Memory">The memory curve's points, by bytes moved.</param>
/// <param name="MemoryBound">Matrix shapes left out as memory-bound (their time is the memory curve's, not the matrix curve's).</param>
public sealed record KernelCurves(Chip Chip, string AttentionBackend, ImmutableArray<MeasuredPoint> Matrix, ImmutableArray<MeasuredPoint> Attention,
    ImmutableArray<MeasuredPoint> Memory, int MemoryBound)
{
    /// <summary>The matrix curve.</summary>
    public EfficiencyCurve MatrixCurve => Curve(Matrix);

    /// <summary>The attention curve.</summary>
    public EfficiencyCurve AttentionCurve => Curve(Attention);

    /// <summary>The memory curve.</summary>
    public EfficiencyCurve MemoryCurve => Curve(Memory);

    private static EfficiencyCurve Curve(ImmutableArray<MeasuredPoint> points) => new(points.Select(point => (point.Size, point.Efficiency)));
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
/// <item>Attention: a forward and its backward together, by the forward's operations: 3.5 forward operations (the
/// backward's 2.5 times the forward's, as the engine counts it) over the two times, against the BF16 peak at which
/// fused attention runs. The engine runs both at the forward's efficiency, so each measured pair's time is reproduced.</item>
/// </list>
/// </remarks>
public static class KernelCurveFit
{
    /// <summary>The share of a multiply's measured time above which its traffic, at the memory curve, marks it memory-bound.</summary>
    public const double MemoryBoundShare = 0.8;

    /// <summary>The grid's step, in decades.</summary>
    public const double GridStep = 0.5;

    /// <summary>Operations of an attention forward and backward together, per forward operation.</summary>
    public const double AttentionPairWork = 3.5;

    /// <summary>The attention implementation the training frameworks the family runs use, unless told otherwise.</summary>
    public const string DefaultAttentionBackend = "CUDNN_ATTENTION";

    /// <summary>Derives the curves from <paramref name="measurements"/> of <paramref name="chip"/>.</summary>
    public static KernelCurves Fit(KernelMeasurements measurements, Chip chip, string attentionBackend = DefaultAttentionBackend)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        ArgumentNullException.ThrowIfNull(chip);
        var bandwidth = chip.MemoryBandwidth.Value;
        if (measurements.Memory.IsEmpty || measurements.Matrix.IsEmpty)
        {
            throw new InputException("--kernels", "the measurements hold no memory or no matrix timings: nothing to derive the curves from");
        }

        var memory = Points<Bytes>(measurements.Memory.Select(row => (row.Traffic.Count, row.Traffic / row.Time / bandwidth)), "B");
        var memoryCurve = new EfficiencyCurve(memory.Select(point => (point.Size, point.Efficiency)));

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

        var attentionRows = measurements.Attention.Where(row => row.Backend == attentionBackend).ToArray();
        if (attentionRows.Length == 0)
        {
            var found = measurements.Attention.Select(row => row.Backend).Distinct().Order(StringComparer.Ordinal).ToArray();
            throw new InputException("--attention-backend", $"no timing of '{attentionBackend}' in the measurements (expected one of: {(found.Length > 0 ? string.Join(", ", found) : "none: the file has no attention timings")})");
        }

        var attentionPeak = chip.PeakRate(Precision.Bf16) ?? throw new InputException("--chip", $"{chip.Id} has no BF16 peak, at which fused attention runs");
        var attention = Points<Flops>(attentionRows.Select(row => (row.ForwardWork.Operations, row.ForwardWork * AttentionPairWork / (row.ForwardTime + row.BackwardTime) / attentionPeak)), "FLOP");
        return new KernelCurves(chip, attentionBackend, Points<Flops>(computeBound, "FLOP"), attention, memory, memoryBound);
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
                Math.Round(Statistics.Median(group.Select(sample => sample.Efficiency)), 3),
                group.Count()))];

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
