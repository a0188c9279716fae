using System.Collections.Immutable;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Performance.Kernels;
using ClusterTwin.Units;
using Spectre.Console;

namespace ClusterTwin.Cli.Reports;

/// <summary>The operators of each kind of layer, as <c>simulate --kernels</c> prints them and adds them to its JSON.</summary>
public static class LayerProfileReport
{
    private static readonly string[] Headers = ["operator", "runs", "forward", "backward", "share", "bound", "rate"];

    /// <summary>Writes one table per kind of layer, then what the tables leave out.</summary>
    public static void Write(IAnsiConsole console, ImmutableArray<LayerProfile> layers)
    {
        ArgumentNullException.ThrowIfNull(console);
        foreach (var layer in layers)
        {
            var total = layer.Forward + layer.Backward;
            var rows = layer.Operators.Select(item => Row(item, total))
                .Append(["total", string.Empty, layer.Forward.ToString(), layer.Backward.ToString(), "100.0%", string.Empty, string.Empty]);
            console.Write(Tables.Console($"{layer.Layer} (x{layer.Count}): one micro-batch on the busiest chip", Headers, rows));
        }

        console.MarkupLine("[dim]The backward runs each multiply twice (input and weight gradients). Rate: the forward's operations per second " +
                           "(a memory-bound one's bytes per second); --json adds each operator's work and traffic. Not in these tables: the collectives, " +
                           "the recompute, the pipeline schedule and a framework's slowdown without recompute (see the breakdown).[/]");
    }

    /// <summary>The layers as JSON objects (fields documented in docs/json-output.md).</summary>
    public static object[] Json(ImmutableArray<LayerProfile> layers) =>
        [.. layers.Select(layer => (object)new
        {
            layer = layer.Layer,
            count = layer.Count,
            forwardSeconds = layer.Forward.Seconds,
            backwardSeconds = layer.Backward.Seconds,
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

    private static string[] Row(OperatorTime item, Duration layerTotal) =>
    [
        item.Name + (item.Recomputed ? " (recomputed)" : string.Empty),
        item.Runs.ToString("N0", System.Globalization.CultureInfo.InvariantCulture),
        item.Forward.ToString(),
        item.Backward.ToString(),
        layerTotal > Duration.Zero ? Format.Percent((item.Forward + item.Backward) / layerTotal) : "-",
        item.Bound.ToString().ToLowerInvariant(),
        Rate(item),
    ];

    private static string Rate(OperatorTime item)
    {
        if (item.Forward <= Duration.Zero)
        {
            return "-";
        }

        return item.Bound == OperatorBound.Memory || item.Work.Operations <= 0 ? (item.Traffic / item.Forward).ToString() : (item.Work / item.Forward).ToString();
    }

    private static string Kind(KernelKind kind) => kind switch
    {
        KernelKind.Matrix => "matrix",
        KernelKind.FusedAttention => "fused-attention",
        _ => "memory",
    };
}
