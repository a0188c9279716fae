namespace ClusterTwin.Serving;

/// <summary>
/// One iteration's batch as it is built: decodes, then prefill chunks within the token budget; each decode takes
/// <paramref name="tokensPerDecode"/> of the budget (one, or every position speculation verifies). A chunk of one
/// request takes at most <paramref name="chunkLimit"/> tokens (the whole budget unless given: with expert parallelism
/// each chip schedules its own requests within its own budget). Attention's context and pairs are the average
/// layer's under <paramref name="layout"/> (local layers see at most their window).
/// </summary>
internal struct Batch(CacheLayout layout, int budget, int tokensPerDecode = 1, int chunkLimit = int.MaxValue)
{
    public int Budget = budget;
    private int decodeTokens;
    private double decodeContext;
    private int prefillTokens;
    private double prefillPairs;
    private int sampled;
    private int largestChunk;
    private double largestChunkPairs;

    /// <summary>Requests decoding in the batch so far.</summary>
    public readonly int DecodeTokens => decodeTokens;

    public readonly Iteration Iteration => new(decodeTokens, decodeContext, prefillTokens, prefillPairs, sampled + decodeTokens, largestChunk, largestChunkPairs);

    public void Decode(ActiveRequest active)
    {
        active.DecodeScheduled = true;
        decodeTokens++;
        decodeContext += layout.Context(active.Context);
        Budget -= tokensPerDecode;
    }

    /// <summary>Takes the next chunk of <paramref name="active"/>'s prompt that the budget allows; its last chunk samples a token.</summary>
    public void Prefill(ActiveRequest active)
    {
        var chunk = Math.Min(Math.Min(Budget, chunkLimit), active.Prompt - active.Prefilled);
        if (chunk <= 0)
        {
            active.Chunk = 0;
            return;
        }

        active.Chunk = chunk;
        Budget -= chunk;
        prefillTokens += chunk;
        var pairs = layout.PrefillPairs(active.Prefilled, chunk);
        prefillPairs += pairs;
        if (chunk > largestChunk)
        {
            (largestChunk, largestChunkPairs) = (chunk, pairs);
        }

        sampled += active.Prefilled + chunk == active.Prompt ? 1 : 0;
    }
}
