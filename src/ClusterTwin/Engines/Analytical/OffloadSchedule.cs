namespace ClusterTwin.Engines.Analytical;

/// <summary>
/// When Transformer Engine moves offloaded activations (its <c>AsyncDoubleBufferGroupOffloadHandler</c>, which
/// Megatron-Core's <c>cpu_offloading_num_layers</c> drives, in Transformer Engine 2.9 and before, later behind
/// <c>NVTE_CPU_OFFLOAD_V1=1</c>): it spreads the offloaded layers' moves evenly over the model's layers, the offloads on
/// one copy stream and the reloads on another, each move with a deadline a few layers on.
/// </summary>
/// <remarks>
/// In the forward pass the first offloaded layer's move starts when the layer ends, and the compute stream waits for it
/// at the end of layer <c>window[0]</c>, where the next move starts, due at the end of layer <c>window[1]</c>, and so on,
/// with <c>window[i] = (L / N)(i + 1) - 1</c> plus the remainder spread over the first groups
/// (<c>layer_window_map</c>). The backward pass reloads in the same windows, in reverse. So move <c>i</c> hides behind
/// the passes of the <c>window[i] - window[i - 1]</c> layers before its deadline.
/// </remarks>
public static class OffloadSchedule
{
    /// <summary>
    /// The layer after which each of the <paramref name="offloaded"/> moves must be done, among <paramref name="layers"/>
    /// (Transformer Engine's <c>layer_window_map</c>).
    /// </summary>
    public static int[] Deadlines(int layers, int offloaded)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(offloaded, 1);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(layers, offloaded);
        var deadlines = new int[offloaded];
        var extra = 0;
        for (var group = 0; group < offloaded; group++)
        {
            deadlines[group] = (layers / offloaded * (group + 1)) - 1;
            if (group < layers % offloaded)
            {
                extra = group + 1;
            }

            deadlines[group] += extra;
        }

        return deadlines;
    }

    /// <summary>The layers whose passes each move hides behind: from the previous deadline (the first move: its own layer's end) to its own.</summary>
    public static IEnumerable<(int First, int Count)> Windows(int layers, int offloaded)
    {
        var deadlines = Deadlines(layers, offloaded);
        for (var group = 0; group < offloaded; group++)
        {
            var first = group == 0 ? 1 : deadlines[group - 1] + 1;
            yield return (first, deadlines[group] - first + 1);
        }
    }
}
