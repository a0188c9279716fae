using System.Collections.Immutable;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Numerics;

namespace ClusterTwin.Calibration;

/// <summary>
/// Derives a family's head-size factors (<see cref="AttentionHeadSizes"/>) from timings of causal fused attention at
/// several head sizes beside head size 128 on the same sequences (<c>tools/measure-kernels.py --only head-sizes</c>).
/// </summary>
/// <remarks>
/// Each factor is the median, over the sequence lengths timed at both sizes, of the kernel's operations per second at
/// the head size over the same at 128 (the forward's and the backward's apart), rounded to three figures. Comparing
/// within one file, on one device at one time, leaves out what the family's curves already hold: the chip's peak,
/// its clock as found, and the sequence length's own effect.
/// </remarks>
public static class AttentionHeadSizeFit
{
    /// <summary>The factors of every head size <paramref name="measurements"/> time with <paramref name="attentionBackend"/>.</summary>
    public static AttentionHeadSizes Fit(KernelMeasurements measurements, string attentionBackend, string procedure)
    {
        ArgumentNullException.ThrowIfNull(measurements);
        var causal = measurements.Attention.Where(row => row.Backend == attentionBackend && row.Causal && row.Sequence > 0).ToArray();
        var reference = causal.Where(row => row.HeadSize == AttentionHeadSize.Reference)
            .GroupBy(row => row.Sequence)
            .ToDictionary(group => group.Key, group => (Forward: Statistics.Median(group.Select(Forward)), Backward: Statistics.Median(group.Select(Backward))));
        if (reference.Count == 0)
        {
            throw new InputException("--head-sizes", $"no causal '{attentionBackend}' attention at head size {AttentionHeadSizes.ReferenceSize} with its sequence length to compare the other head sizes with (run tools/measure-kernels.py --only head-sizes)");
        }

        var factors = causal.Where(row => row.HeadSize != AttentionHeadSize.Reference && reference.ContainsKey(row.Sequence))
            .GroupBy(row => row.HeadSize)
            .Select(group => new AttentionHeadSizeFactor(group.Key,
                KernelCurveFit.SignificantFigures(Statistics.Median(group.Select(row => Forward(row) / reference[row.Sequence].Forward)), 3),
                KernelCurveFit.SignificantFigures(Statistics.Median(group.Select(row => Backward(row) / reference[row.Sequence].Backward)), 3),
                group.Count()))
            .OrderBy(factor => factor.HeadSize.QueryKey)
            .ThenBy(factor => factor.HeadSize.Value)
            .ToImmutableArray();
        if (factors.IsEmpty)
        {
            throw new InputException("--head-sizes", $"no causal '{attentionBackend}' attention at a head size other than {AttentionHeadSizes.ReferenceSize} on a sequence length also timed at {AttentionHeadSizes.ReferenceSize}");
        }

        return new AttentionHeadSizes(factors, procedure, measurements.Device, attentionBackend);
    }

    private static double Forward(AttentionMeasurement row) => row.ForwardWork.Operations / row.ForwardTime.Seconds;

    private static double Backward(AttentionMeasurement row) => row.ForwardWork.Operations / row.BackwardTime.Seconds;
}
