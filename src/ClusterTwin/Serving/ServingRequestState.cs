namespace ClusterTwin.Serving;

/// <summary>A request inside a pool: its progress through prefill and decode, its cache and what the client has seen.</summary>
internal sealed class Active(Request request)
{
    public Request Request { get; } = request;

    /// <summary>Tokens to prefill: the prompt, and after a preemption what was generated too (recomputed).</summary>
    public int Prompt { get; private set; } = request.InputTokens;

    public int Prefilled { get; set; }

    public int Generated { get; set; }

    public int Chunk { get; set; }

    /// <summary>Whether the running iteration decodes a token for the request.</summary>
    public bool DecodeScheduled { get; set; }

    /// <summary>Tokens generated but not yet sent (within a multi-step block).</summary>
    public int Undelivered { get; set; }

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
        Cache = 0;
        Chunk = 0;
    }
}

/// <summary>One replica: its queue, its running batch and its cache.</summary>
internal sealed class Replica(int index)
{
    public int Index { get; } = index;

    public Deque<Active> Waiting { get; } = new();

    public List<Active> Running { get; } = [];

    public long CacheUsed { get; set; }

    /// <summary>Cache set aside for the running requests at admission.</summary>
    public long Reserved { get; set; }

    public bool Busy { get; set; }

    /// <summary>Iterations left in the current multi-step decode block.</summary>
    public int BlockLeft { get; set; }

    /// <summary>When the replica's outgoing link is free for the next key-value transfer (a prefill replica's).</summary>
    public double LinkFree { get; set; }

    public int Outstanding => Waiting.Count + Running.Count;
}

/// <summary>A double-ended queue: arrivals join the back, preempted requests return to the front.</summary>
internal sealed class Deque<T>
{
    private readonly LinkedList<T> items = new();

    public int Count => items.Count;

    public void Enqueue(T item) => items.AddLast(item);

    public void PushFront(T item) => items.AddFirst(item);

    public T Peek() => items.First!.Value;

    public T Dequeue()
    {
        var first = items.First!.Value;
        items.RemoveFirst();
        return first;
    }
}

/// <summary>One iteration's batch as it is built: decodes, then prefill chunks within the token budget.</summary>
internal struct Batch(int budget)
{
    public int Budget = budget;
    private int decodeTokens;
    private double decodeContext;
    private int prefillTokens;
    private double prefillPairs;
    private int sampled;

    public readonly Iteration Iteration => new(decodeTokens, decodeContext, prefillTokens, prefillPairs, sampled + decodeTokens);

    public void Decode(Active active)
    {
        active.DecodeScheduled = true;
        decodeTokens++;
        decodeContext += active.Context;
        Budget--;
    }

    /// <summary>Takes the next chunk of <paramref name="active"/>'s prompt that the budget allows; its last chunk samples a token.</summary>
    public void Prefill(Active active)
    {
        var chunk = Math.Min(Budget, active.Prompt - active.Prefilled);
        if (chunk <= 0)
        {
            active.Chunk = 0;
            return;
        }

        active.Chunk = chunk;
        Budget -= chunk;
        prefillTokens += chunk;
        prefillPairs += (chunk * (double)active.Prefilled) + (chunk * (chunk + 1) / 2.0);
        sampled += active.Prefilled + chunk == active.Prompt ? 1 : 0;
    }
}
