using ClusterTwin.Workloads;

namespace ClusterTwin.Serving;

/// <summary>
/// How a served model's key-value cache grows with a request's tokens. Where every layer attends to the whole context
/// the cache is counted in tokens (one unit a token). Where local layers (<see cref="LocalAttention"/>: GPT-OSS's
/// sliding windows, Llama 4's chunks) keep at most their window, it is counted in layer-tokens (a unit per token per
/// layer), as servers that page such layers apart hold it (vLLM's hybrid cache manager): the global layers keep every
/// token, the local ones at most the window's last tokens.
/// </summary>
public sealed class CacheLayout
{
    private readonly LocalAttention? local;
    private readonly int globalLayers;
    private readonly int localLayers;

    private CacheLayout(ModelArchitecture model)
    {
        local = model.LocalAttention;
        localLayers = model.LocalAttentionLayerCount;
        globalLayers = model.Layers - localLayers;
        UnitsPerToken = local is null ? 1 : model.Layers;
    }

    /// <summary>Cache units of one token on every layer: 1, or the layers where some are local.</summary>
    public int UnitsPerToken { get; }

    /// <summary>The layout of <paramref name="model"/>'s cache.</summary>
    public static CacheLayout Of(ModelArchitecture model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new CacheLayout(model);
    }

    /// <summary>Cache units a request holding <paramref name="tokens"/> tokens occupies: the tokens, or on local layers at most the window.</summary>
    public long Units(long tokens) => local is null ? tokens : (globalLayers * tokens) + (localLayers * Math.Min(tokens, local.Window));

    /// <summary>
    /// Keys the next query of a request with <paramref name="context"/> tokens of context reads, on the average layer:
    /// the context, or on local layers at most the window (a chunk's keys are at most the window too: an upper bound).
    /// </summary>
    public double Context(double context) => local is null ? context : ((globalLayers * context) + (localLayers * local.KeysSeen(context))) / (globalLayers + localLayers);

    /// <summary>
    /// Query-key pairs a prefill chunk of <paramref name="chunk"/> tokens after <paramref name="prefilled"/> computes
    /// under the causal mask, its own diagonal included, on the average layer: each query against its context, or on
    /// local layers against at most the window (sliding) or the earlier tokens of its chunk (chunked).
    /// </summary>
    public double PrefillPairs(double prefilled, int chunk)
    {
        var full = (chunk * prefilled) + (chunk * (chunk + 1.0) / 2);
        return local is null ? full : ((globalLayers * full) + (localLayers * (local.PairsThrough(prefilled + chunk) - local.PairsThrough(prefilled)))) / (globalLayers + localLayers);
    }
}
