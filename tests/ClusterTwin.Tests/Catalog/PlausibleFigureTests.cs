using ClusterTwin.Catalog;
using ClusterTwin.Tests.Support;

namespace ClusterTwin.Tests.Catalog;

/// <summary>
/// Catalogue figures far outside what hardware can be ("1e-300 TFLOPS", "1e300 MiB") are refused where they are
/// written, naming the value, the field, the file and the accepted range, before they reach a time of infinity.
/// </summary>
public class PlausibleFigureTests
{
    [Theory]
    [InlineData("chips/nvidia-h100-sxm.yaml", "bf16: {value: 989 TFLOPS", "bf16: {value: 1e-300 TFLOPS", "peak_rates.bf16.value", "'1e-300 TFLOPS' is outside the plausible range of a FLOP rate (expected 1 GFLOPS to 1000000 PFLOPS)")]
    [InlineData("chips/nvidia-h100-sxm.yaml", "bandwidth: {value: 3.35 TB/s", "bandwidth: {value: 1e-300 TB/s", "memory.bandwidth.value", "(expected 1 Mb/s to 1 PB/s)")]
    [InlineData("chips/nvidia-h100-sxm.yaml", "capacity: {value: 81559 MiB", "capacity: {value: 1e300 MiB", "memory.capacity.value", "(expected 1 MB to 1 PB)")]
    [InlineData("chips/nvidia-h100-sxm.yaml", "bandwidth: {value: 900 GB/s", "bandwidth: {value: 1e-300 GB/s", "scale_up.bandwidth.value", "(expected 1 Mb/s to 1 PB/s)")]
    [InlineData("chips/nvidia-h100-sxm.yaml", "bandwidth: {value: 400 Gb/s", "bandwidth: {value: 1e-300 Gb/s", "scale_out.bandwidth.value", "(expected 1 Mb/s to 1 PB/s)")]
    [InlineData("systems/nvidia-dgx-h100.yaml", "    value: 900 GB/s\n", "    value: 1e-300 GB/s\n", "scale_up.bandwidth.value", "(expected 1 Mb/s to 1 PB/s)")]
    [InlineData("systems/nvidia-dgx-h100.yaml", "    value: 1 us\n", "    value: 1e30 us\n", "scale_up.latency.value", "'1e30 us' is outside the plausible range of a duration (expected 1 ns to 1 s)")]
    [InlineData("fabrics/infiniband-ndr-fat-tree.yaml", "  value: 0.92\n", "  value: 1e-300\n", "efficiency.value", "'1e-300' is not a plausible fraction (expected a number from 0.01 to 1)")]
    [InlineData("frameworks/vllm-0.6.yaml", "\nlayer_overhead:", "\nlayer_overhead: 1 s #", "layer_overhead", "(expected 0 to 100 ms)")]
    [InlineData("frameworks/vllm-0.6.yaml", "\nrequest_overhead:", "\nrequest_overhead: 2 min #", "request_overhead", "(expected 0 to 60 s)")]
    public void AFigureOutsideItsPlausibleRange_IsRefused_NamingValueFieldFileAndRange(string file, string from, string to, string field, string message)
    {
        var error = CatalogEdits.LoadWithChange(file, from, to);
        Assert.Contains(error.Diagnostics, diagnostic =>
            diagnostic.File.EndsWith(Path.GetFileName(file), StringComparison.Ordinal) && diagnostic.Line > 0 &&
            diagnostic.Field == field && diagnostic.Message.Contains(message, StringComparison.Ordinal));
    }
}
