namespace ClusterTwin.Serving;

/// <summary>One replica: its queue, its running batch and its cache.</summary>
internal sealed class Replica(int index)
{
    public int Index { get; } = index;

    public Deque<ActiveRequest> Waiting { get; } = new();

    public List<ActiveRequest> Running { get; } = [];

    public long CacheUsed { get; set; }

    /// <summary>Cache set aside for the running requests at admission.</summary>
    public long Reserved { get; set; }

    public bool Busy { get; set; }

    /// <summary>
    /// A request reached it while it was idle at the current instant: it starts once every arrival and transfer of
    /// that instant is routed.
    /// </summary>
    public bool StartPending { get; set; }

    /// <summary>Iterations left in the current multi-step decode block.</summary>
    public int BlockLeft { get; set; }

    /// <summary>When each of the replica's transfer lanes is free for the next key-value transfer (a prefill replica's).</summary>
    public double[]? LinkFree { get; set; }

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
