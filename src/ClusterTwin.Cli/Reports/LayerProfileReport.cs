using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The operators of each kind of layer, as <c>simulate --kernels</c> prints them and adds them to its JSON.</summary>
public static class LayerProfileReport
{
    private static readonly string[] Headers = ["operator", "runs", "forward", "backward", "share", "bound", "rate"];

    /// <summary>
    /// Writes one table per kind of layer, then what the tables leave out. Rates print in the unit of
    /// <paramref name="peak"/> and <paramref name="bandwidth"/>, the chip's, so that a column compares at a glance.
    /// </summary>
    public static void Write(IAnsiConsole console, ImmutableArray<LayerProfile> layers, FlopRate peak, Bandwidth bandwidth)
    {
        ArgumentNullException.ThrowIfNull(console);
        foreach (var layer in layers)
        {
            var rows = layer.Operators.Select(item => Row(item, layer.Total, peak, bandwidth));
            if (layer.HostWait > Duration.Zero)
            {
                rows = rows.Append(["host launches beyond the device's work (the host runs ahead)", string.Empty, "-", "-", Format.Percent(layer.HostWait / layer.Total), "host", string.Empty]);
            }

            rows = rows.Append(["total", string.Empty, layer.Forward.ToString(), layer.Backward.ToString(), "100.0%", string.Empty, string.Empty]);
            var count = layer.Count > 1 ? $" ({layer.Count.ToString("N0", CultureInfo.InvariantCulture)} in the model)" : string.Empty;
            console.Write(Tables.Console($"{layer.Layer}{count}: one micro-batch on the busiest chip", Headers, rows));
        }

        console.MarkupLine("[dim]The backward runs each multiply twice (input and weight gradients). Bound and rate are the forward's: its " +
                           "operations per second, or a memory-bound operator's bytes per second; --json adds each operator's work and traffic. " +
                           "Not in these tables: the collectives, the recompute, the pipeline schedule and a framework's slowdown without " +
                           "recompute (see the breakdown).[/]");
    }

    /// <summary>The layers as JSON objects (fields documented in docs/json-output.md).</summary>
    public static object[] Json(ImmutableArray<LayerProfile> layers) =>
        [.. layers.Select(layer => (object)new
        {
            layer = layer.Layer,
            count = layer.Count,
            forwardSeconds = layer.Forward.Seconds,
            backwardSeconds = layer.Backward.Seconds,
            hostWaitSeconds = layer.HostWait.Seconds,
            operators = layer.Operators.Select(item => new
            {
                name = item.Name,
                kind = Kind(item.Kind),
                runs = item.Runs,
                flops = item.Work.Operations,
                bytes = item.Traffic.Count,
                forwardSeconds = item.Forward.Seconds,
                backwardSeconds = item.Backward.Seconds,
                hostWaitSeconds = item.HostWait.Seconds,
                bound = item.Bound.ToString().ToLowerInvariant(),
                recomputed = item.Recomputed,
            }),
        })];

    private static string[] Row(OperatorProfile item, Duration layerTotal, FlopRate peak, Bandwidth bandwidth) =>
    [
        item.Name + (item.Recomputed ? " (recomputed)" : string.Empty),
        item.Runs.ToString("N0", CultureInfo.InvariantCulture),
        item.Forward.ToString(),
        item.Backward.ToString(),
        layerTotal > Duration.Zero ? Format.Percent((item.Forward + item.Backward) / layerTotal) : "-",
        item.Bound.ToString().ToLowerInvariant(),
        Rate(item, peak, bandwidth),
    ];

    private static string Rate(OperatorProfile item, FlopRate peak, Bandwidth bandwidth)
    {
        if (item.Forward <= Duration.Zero)
        {
            return "-";
        }

        return item.Bound == OperatorBound.Memory || item.Work.Operations <= 0
            ? Quantity.FormatLike(item.Traffic / item.Forward, bandwidth)
            : Quantity.FormatLike(item.Work / item.Forward, peak);
    }

    private static string Kind(KernelKind kind) => kind switch
    {
        KernelKind.Matrix => "matrix",
        KernelKind.FusedAttention => "fused-attention",
        _ => "memory",
    };
}
