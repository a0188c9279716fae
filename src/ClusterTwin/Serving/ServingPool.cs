using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>What a pool of replicas does with a request.</summary>
public enum PoolRole
{
    /// <summary>Prefill and decode on the same replicas.</summary>
    Unified,

    /// <summary>Prefill only: after its first token a request's cache moves to the decode pool.</summary>
    Prefill,

    /// <summary>Decode only: requests arrive with their prompt's cache.</summary>
    Decode,
}

/// <summary>
/// Replicas of one deployment and the scheduler each runs, as continuous-batching servers do (vLLM, SGLang,
/// TensorRT-LLM): running requests decode a token each, prompts are prefilled in chunks within a token budget, new
/// requests are admitted while the batch, the cache and its reservation allow, and when the cache is full the most
/// recently admitted request is preempted and recomputed later. A router sends each request to the replica with the
/// fewest outstanding, found in a sorted index (logarithmic in the replicas). A replica is made the first time the
/// router reaches it: untouched replicas are all idle and alike, so a pool of millions costs what its busy ones do.
/// </summary>
internal sealed class ServingPool
{
    private readonly SortedSet<(int Outstanding, int Index)> byLoad = [];
    private readonly List<Replica> replicas = [];
    private readonly int replicaCount;
    private readonly Action<Replica, ActiveRequest, double>? handOff;

    /// <summary>The model's own layout, which its attention reads follow even where the cache counts every layer whole (speculating).</summary>
    private readonly CacheLayout attention;

    public ServingPool(int index, PoolRole role, ServingDeployment deployment, Action<Replica, ActiveRequest, double>? handOff = null)
    {
        Index = index;
        Role = role;
        Deployment = deployment;
        Cost = new IterationCost(deployment);
        Layout = deployment.CacheLayout;
        attention = CacheLayout.Of(deployment.Model);
        Capacity = deployment.KeyValueCapacityUnits;
        replicaCount = (int)Math.Min(deployment.Replicas, int.MaxValue);
        this.handOff = handOff;
    }

    public int Index { get; }

    public PoolRole Role { get; }

    public ServingDeployment Deployment { get; }

    public IterationCost Cost { get; }

    /// <summary>How a request's cache grows with its tokens; <see cref="Capacity"/> and every request's cache are in its units.</summary>
    public CacheLayout Layout { get; }

    /// <summary>Cache units (<see cref="Layout"/>) each replica holds.</summary>
    public long Capacity { get; }

    /// <summary>Replica <paramref name="index"/>, one the router has reached (the replicas are reached in order).</summary>
    public Replica this[int index] => replicas[index];

    public Flops Work { get; private set; }

    /// <summary>The part of <see cref="Work"/> run at the BF16 rate under a low-precision format (IterationWork.Bf16Work).</summary>
    public Flops Bf16Work { get; private set; }

    public Bytes MemoryTraffic { get; private set; }

    public Bytes LinkTraffic { get; private set; }

    public Duration BusyTime { get; private set; }

    public long Iterations { get; private set; }

    public long Preemptions { get; private set; }

    /// <summary>The share of each output reserved at admission: none in a prefill pool, which decodes no output.</summary>
    private double ReservationShare => Role == PoolRole.Prefill ? 0 : Deployment.OutputReservation;

    /// <summary>Cache set aside for a request at admission: its share of output, and speculation's look-ahead slots.</summary>
    private long Reserve(ActiveRequest active) => Layout.Units(active.Reservation(ReservationShare) + PerDecode - 1);

    /// <summary>Cache each decoding request needs per iteration: one token, or every position speculation verifies.</summary>
    private int PerDecode => Deployment.Speculation is { } speculation ? speculation.DraftTokens + 1 : 1;

    /// <summary>Cache units the decodes the running batch schedules add.</summary>
    private long ScheduledGrowth(Replica replica)
    {
        var growth = 0L;
        foreach (var active in replica.Running)
        {
            growth += active.DecodeScheduled ? DecodeGrowth(active) : 0;
        }

        return growth;
    }

    /// <summary>Cache units <paramref name="active"/>'s next decode adds: its tokens' units on every layer, none on a local layer past its window.</summary>
    private long DecodeGrowth(ActiveRequest active) => Layout.Units(active.CacheTokens + PerDecode) - active.Cache;

    /// <summary>Queues <paramref name="active"/> at the least loaded replica, which is returned.</summary>
    public Replica Route(ActiveRequest active)
    {
        // The least loaded replica, the lowest index among equals: an idle one already made, else the next untouched
        // (idle, and above every index made), else the least loaded of all.
        if ((byLoad.Count == 0 || byLoad.Min.Outstanding > 0) && replicas.Count < replicaCount)
        {
            replicas.Add(new Replica(replicas.Count));
            byLoad.Add((0, replicas.Count - 1));
        }

        var (load, index) = byLoad.Min;
        var replica = replicas[index];
        byLoad.Remove((load, index));
        replica.Waiting.Enqueue(active);
        byLoad.Add((replica.Outstanding, index));
        return replica;
    }

    /// <summary>Builds and starts a replica's next iteration at <paramref name="now"/>, if it has work; its end joins <paramref name="busy"/>.</summary>
    public void Start(Replica replica, double now, PriorityQueue<(ServingPool Pool, Replica Replica), (double End, int Pool, int Index)> busy, ServingMetrics metrics)
    {
        replica.Busy = false;
        var decodes = 0;
        var growth = 0L;
        foreach (var active in replica.Running)
        {
            if (active.Decoding)
            {
                decodes++;
                growth += DecodeGrowth(active);
            }
        }

        if (replica.BlockLeft > 0)
        {
            // Within a multi-step block: the same requests decode again, nothing is admitted (the server reserved
            // the block's cache when it scheduled it); the block ends early when every request has finished.
            if (decodes > 0)
            {
                replica.BlockLeft--;
                var block = new Batch(attention, int.MaxValue);
                foreach (var active in replica.Running)
                {
                    active.Chunk = 0;
                    if (active.Decoding)
                    {
                        block.Decode(active);
                    }
                }

                Launch(replica, now, block.Iteration, busy);
                return;
            }

            replica.BlockLeft = 0;
            Deliver(replica, now, metrics);
        }

        // Decodes need one more token of cache each (speculating, room for every verified token); preempt the
        // latest admitted until they fit.
        while (replica.CacheUsed + growth > Capacity && replica.Running.Count > 1)
        {
            var victim = replica.Running[^1];
            replica.Running.RemoveAt(replica.Running.Count - 1);
            growth -= victim.Decoding ? DecodeGrowth(victim) : 0;
            replica.CacheUsed -= victim.Cache;
            replica.Reserved -= Reserve(victim);
            victim.Preempt();
            replica.Waiting.PushFront(victim);
            Preemptions++;
        }

        var iteration = Build(replica, growth);
        if (Deployment.SchedulerSteps > 1 && iteration.PrefillTokens == 0 && iteration.DecodeTokens > 0)
        {
            // A decode-only batch runs as a block of iterations, as long as the cache holds every step's tokens
            // (the server reserves the block's slots when it schedules it); a batch with prefill runs alone. A step
            // adds no more than the first (a local layer stops growing at its window).
            var steps = Math.Min(Deployment.SchedulerSteps, (Capacity - replica.CacheUsed) / ScheduledGrowth(replica));
            replica.BlockLeft = (int)Math.Max(0, steps - 1);
        }

        Launch(replica, now, iteration, busy);
    }

    /// <summary>
    /// Applies a finished iteration at <paramref name="now"/>: prefill progress and new tokens; unless a multi-step
    /// block goes on, the tokens reach the client and finished requests leave.
    /// </summary>
    public void Finish(Replica replica, double now, ServingMetrics metrics)
    {
        foreach (var active in replica.Running)
        {
            if (active.DecodeScheduled)
            {
                // One token, or with speculation the expected accepted run, carried over as a fraction.
                active.DecodeScheduled = false;
                var produced = 1;
                if (Deployment.Speculation is { } speculation)
                {
                    active.Credit += speculation.ExpectedTokens;
                    produced = Math.Min((int)Math.Floor(active.Credit), active.Request.OutputTokens - active.Generated);
                    active.Credit -= Math.Floor(active.Credit);
                }

                active.Generated += produced;
                active.CacheTokens += produced;
                var grown = Layout.Units(active.CacheTokens) - active.Cache;
                active.Cache += grown;
                replica.CacheUsed += grown;
                active.Undelivered += produced;
            }
            else if (active.Chunk > 0)
            {
                active.Prefilled += active.Chunk;
                if (active.Prefilled == active.Prompt)
                {
                    // The prefill's last chunk samples the next token: the first, or the next after a recompute.
                    if (active.Generated == 0)
                    {
                        active.FirstToken = now;
                        active.LastToken = now;
                    }
                    else
                    {
                        active.Undelivered++;
                    }

                    active.Generated++;
                }
            }
        }

        if (replica.BlockLeft == 0)
        {
            Deliver(replica, now, metrics);
        }
    }

    /// <summary>
    /// Mixed batches (TensorRT-LLM, vLLM with chunked prefill): decodes first, then prefill chunks in the budget
    /// left. Separate batches (vLLM without chunked prefill, SGLang 0.3): prefill first, alone; decode otherwise.
    /// </summary>
    private Iteration Build(Replica replica, long growth)
    {
        var batch = new Batch(attention, Deployment.ReplicaBatchTokens, PerDecode, Deployment.MaximumBatchTokens);
        foreach (var active in replica.Running)
        {
            active.Chunk = 0;
            if (Deployment.MixedBatches && active.Decoding)
            {
                batch.Decode(active);
            }
        }

        foreach (var active in replica.Running)
        {
            if (!active.Decoding)
            {
                batch.Prefill(active);
            }
        }

        // Admission leaves room for the running requests' next decodes (growth: in this iteration, or the next when a prefill
        // runs alone) and the newcomer's prompt and first token.
        var decodeRoom = Deployment.MixedBatches ? ScheduledGrowth(replica) : growth;
        while (batch.Budget > 0 && replica.Running.Count < Deployment.ReplicaBatch && replica.Waiting.Count > 0 &&
               replica.CacheUsed + decodeRoom + Layout.Units(replica.Waiting.Peek().Prompt + 1) <= Capacity &&
               (replica.Running.Count == 0 || replica.Reserved + Reserve(replica.Waiting.Peek()) <= Capacity))
        {
            var admitted = replica.Waiting.Dequeue();
            admitted.CacheTokens = admitted.Prompt;
            admitted.Cache = Layout.Units(admitted.Prompt);
            replica.CacheUsed += admitted.Cache;
            replica.Reserved += Reserve(admitted);
            replica.Running.Add(admitted);
            if (admitted.Decoding && Deployment.MixedBatches)
            {
                // Arrived from a prefill pool with its cache: it decodes at once.
                batch.Decode(admitted);
            }
            else
            {
                batch.Prefill(admitted);
            }
        }

        if (!Deployment.MixedBatches && batch.Iteration.PrefillTokens == 0)
        {
            foreach (var active in replica.Running)
            {
                if (active.Decoding)
                {
                    batch.Decode(active);
                }
            }
        }

        return batch.Iteration;
    }

    private void Launch(Replica replica, double now, Iteration iteration, PriorityQueue<(ServingPool, Replica), (double, int, int)> busy)
    {
        if (iteration.Tokens == 0)
        {
            return;
        }

        var work = Cost.Of(iteration);
        Iterations++;
        Work += work.Work;
        Bf16Work += work.Bf16Work;
        MemoryTraffic += work.MemoryTraffic;
        LinkTraffic += work.LinkTraffic;
        BusyTime += work.Time;
        replica.Busy = true;
        busy.Enqueue((this, replica), (now + work.Time.Seconds, Index, replica.Index));
    }

    /// <summary>
    /// Sends the tokens generated since the last delivery (one gap each), retires finished requests and, in a prefill
    /// pool, hands each request on after its first token.
    /// </summary>
    private void Deliver(Replica replica, double now, ServingMetrics metrics)
    {
        for (var index = replica.Running.Count - 1; index >= 0; index--)
        {
            var active = replica.Running[index];
            if (active.Undelivered > 0)
            {
                metrics.Token(now - active.LastToken);
                active.LastToken = now;
                active.Undelivered = 0;
            }

            var finished = active.Generated >= active.Request.OutputTokens;
            var handedOn = !finished && Role == PoolRole.Prefill && active.Generated > 0 && active.Prefilled >= active.Prompt;
            if (finished || handedOn)
            {
                byLoad.Remove((replica.Outstanding, replica.Index));
                replica.Running.RemoveAt(index);
                byLoad.Add((replica.Outstanding, replica.Index));
                replica.CacheUsed -= active.Cache;
                replica.Reserved -= Reserve(active);
                if (finished)
                {
                    metrics.Completed(active, now);
                }
                else
                {
                    handOff!(replica, active, now);
                }
            }
        }
    }
}
