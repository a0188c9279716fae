namespace ClusterTwin.Serving;

/// <summary>A request inside a pool: its progress through prefill and decode, its cache and what the client has seen.</summary>
internal sealed class ActiveRequest(Request request)
{
    public Request Request { get; } = request;

    /// <summary>Tokens to prefill: the prompt, and after a preemption what was generated too (recomputed).</summary>
    public int Prompt { get; private set; } = request.InputTokens;

    public int Prefilled { get; set; }

    public int Generated { get; set; }

    public int Chunk { get; set; }

    /// <summary>Whether the running iteration decodes a token for the request.</summary>
    public bool DecodeScheduled { get; set; }

    /// <summary>The fraction of a token speculation has produced beyond whole tokens, carried to the next iteration.</summary>
    public double Credit { get; set; }

    /// <summary>Tokens generated but not yet sent (within a multi-step block).</summary>
    public int Undelivered { get; set; }

    /// <summary>Tokens the request holds in the cache.</summary>
    public long CacheTokens { get; set; }

    /// <summary>Cache units (<see cref="CacheLayout"/>) the request holds: its tokens, or fewer where local layers keep only their window.</summary>
    public long Cache { get; set; }

    public double FirstToken { get; set; } = double.NaN;

    public double LastToken { get; set; }

    public bool Decoding => Prefilled >= Prompt && Generated > 0 && Generated < Request.OutputTokens;

    /// <summary>Tokens of cache a decode attends over: the prompt and what was generated.</summary>
    public double Context => Request.InputTokens + Generated;

    /// <summary>
    /// Cache the scheduler sets aside for the request at admission: its prompt and the share
    /// <paramref name="outputShare"/> of its output (0 admits on the prompt alone, 1 never needs to preempt).
    /// </summary>
    public long Reservation(double outputShare) => Request.InputTokens + (long)Math.Ceiling(outputShare * Request.OutputTokens);

    public void Preempt()
    {
        Prompt = Request.InputTokens + Generated;
        Prefilled = 0;
        CacheTokens = 0;
        Cache = 0;
        Chunk = 0;
    }
}
