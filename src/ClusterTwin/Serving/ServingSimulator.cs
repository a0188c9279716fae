using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>
/// An event-level simulation of serving: requests arrive, a router sends each to the replica with the fewest
/// outstanding requests, and each replica runs iterations as continuous-batching servers do (vLLM, SGLang,
/// TensorRT-LLM): every running request decodes a token, prompts are prefilled in chunks within a token budget, new
/// requests are admitted while the batch and the key-value cache allow, and when the cache is full the most recently
/// admitted request is preempted and recomputed later (docs/serving.md). Memory grows with the requests in flight,
/// never with the length of the trace.
/// </summary>
public static class ServingSimulator
{
    /// <summary>
    /// Simulates <paramref name="workload"/> on <paramref name="deployment"/>, with the run's energy and, at
    /// <paramref name="cost"/>'s prices, its cost.
    /// </summary>
    public static ServingResult Run(ServingDeployment deployment, RequestWorkload workload, ServingObjectives? objectives = null, Economics.CostSettings? cost = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        ArgumentNullException.ThrowIfNull(workload);
        var iterations = new IterationCost(deployment);
        var capacity = deployment.KeyValueCapacityTokens;
        var replicas = Enumerable.Range(0, (int)Math.Min(deployment.Replicas, int.MaxValue)).Select(index => new Replica(index)).ToArray();
        var busy = new PriorityQueue<Replica, (double End, int Index)>();
        var metrics = new Metrics(objectives ?? new ServingObjectives());
        using var arrivals = workload.Stream().GetEnumerator();
        var pending = arrivals.MoveNext() ? arrivals.Current : (Request?)null;
        var refused = 0L;
        while (true)
        {
            var hasEnd = busy.TryPeek(out var next, out var end);
            if (pending is { } request && (!hasEnd || request.Arrival <= end.End))
            {
                if (request.InputTokens + 1 > capacity)
                {
                    refused++;
                }
                else
                {
                    var target = replicas.MinBy(replica => (replica.Outstanding, replica.Index))!;
                    target.Waiting.Enqueue(new Active(request));
                    metrics.Arrived(request.Arrival);
                    if (!target.Busy)
                    {
                        Start(target, request.Arrival, deployment, iterations, capacity, busy, metrics);
                    }
                }

                pending = arrivals.MoveNext() ? arrivals.Current : null;
                continue;
            }

            if (!hasEnd)
            {
                break;
            }

            busy.Dequeue();
            Finish(next!, end.End, metrics);
            Start(next!, end.End, deployment, iterations, capacity, busy, metrics);
        }

        var result = metrics.Result(deployment, refused);
        if (result.Makespan.Seconds <= 0 || result.OutputTokens == 0)
        {
            return result;
        }

        // The run as one long step: every chip idles when its replica does not iterate; energy and cost per output token.
        var activity = new Economics.StepActivity(result.Makespan, result.Work, result.MemoryTraffic, result.LinkTraffic, result.OutputTokens, result.Work);
        var energy = Economics.EnergyModel.Of(deployment.Cluster, deployment.WeightFormat.Precision, activity, (result.Makespan, result.Makespan), cost?.PowerUsageEffectiveness);
        var held = energy?.StepTime ?? result.Makespan;
        var price = cost is null ? null : Economics.CostModel.Of(cost, result.Chips, held, held, held, result.OutputTokens, energy);
        return result with { Energy = energy, Cost = price };
    }

    /// <summary>Builds and starts a replica's next iteration at <paramref name="now"/>, if it has work.</summary>
    private static void Start(Replica replica, double now, ServingDeployment deployment, IterationCost cost, long capacity, PriorityQueue<Replica, (double, int)> busy, Metrics metrics)
    {
        replica.Busy = false;
        // Decodes first: each needs one more token of cache; preempt the latest admitted until they fit.
        var decodes = 0;
        foreach (var active in replica.Running)
        {
            decodes += active.Decoding ? 1 : 0;
        }

        while (replica.CacheUsed + decodes > capacity && replica.Running.Count > 1)
        {
            var victim = replica.Running[^1];
            replica.Running.RemoveAt(replica.Running.Count - 1);
            decodes -= victim.Decoding ? 1 : 0;
            replica.CacheUsed -= victim.Cache;
            victim.Preempt();
            replica.Waiting.PushFront(victim);
            metrics.Preempted();
        }

        var batch = new Batch(deployment.MaximumBatchTokens);
        foreach (var active in replica.Running)
        {
            active.Chunk = 0;
            if (active.Decoding)
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

        while (batch.Budget > 0 && replica.Running.Count < deployment.MaximumBatch && replica.Waiting.Count > 0 && replica.CacheUsed + replica.Waiting.Peek().Prompt + 1 <= capacity)
        {
            var admitted = replica.Waiting.Dequeue();
            admitted.Cache = admitted.Prompt;
            replica.CacheUsed += admitted.Cache;
            replica.Running.Add(admitted);
            batch.Prefill(admitted);
        }

        var iteration = batch.Iteration;
        if (iteration.Tokens == 0)
        {
            return;
        }

        var work = cost.Of(iteration);
        metrics.Iterated(work);
        replica.Busy = true;
        busy.Enqueue(replica, (now + work.Time.Seconds, replica.Index));
    }

    /// <summary>One iteration's batch as it is built: decodes, then prefill chunks within the token budget.</summary>
    private struct Batch(int budget)
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
                return;
            }

            active.Chunk = chunk;
            Budget -= chunk;
            prefillTokens += chunk;
            prefillPairs += (chunk * (double)active.Prefilled) + (chunk * (chunk + 1) / 2.0);
            sampled += active.Prefilled + chunk == active.Prompt ? 1 : 0;
        }
    }

    /// <summary>Applies a finished iteration at <paramref name="now"/>: prefill progress, new tokens, finished requests.</summary>
    private static void Finish(Replica replica, double now, Metrics metrics)
    {
        for (var index = replica.Running.Count - 1; index >= 0; index--)
        {
            var active = replica.Running[index];
            if (active.Decoding)
            {
                active.Generated++;
                active.Cache++;
                replica.CacheUsed++;
                metrics.Token(now - active.LastToken);
                active.LastToken = now;
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
                    }
                    else
                    {
                        metrics.Token(now - active.LastToken);
                    }

                    active.Generated++;
                    active.LastToken = now;
                }
            }

            if (active.Generated >= active.Request.OutputTokens)
            {
                replica.Running.RemoveAt(index);
                replica.CacheUsed -= active.Cache;
                metrics.Completed(active, now);
            }
        }
    }

    /// <summary>A request in a replica.</summary>
    private sealed class Active(Request request)
    {
        public Request Request { get; } = request;

        /// <summary>Tokens to prefill: the prompt, and after a preemption what was generated too (recomputed).</summary>
        public int Prompt { get; private set; } = request.InputTokens;

        public int Prefilled { get; set; }

        public int Generated { get; set; }

        public int Chunk { get; set; }

        public long Cache { get; set; }

        public double FirstToken { get; set; } = double.NaN;

        public double LastToken { get; set; }

        public bool Decoding => Prefilled >= Prompt && Generated > 0 && Generated < Request.OutputTokens;

        /// <summary>Tokens of cache a decode attends over: the prompt and what was generated.</summary>
        public double Context => Request.InputTokens + Generated;

        public void Preempt()
        {
            Prompt = Request.InputTokens + Generated;
            Prefilled = 0;
            Cache = 0;
            Chunk = 0;
        }
    }

    private sealed class Replica(int index)
    {
        public int Index { get; } = index;

        public Deque<Active> Waiting { get; } = new();

        public List<Active> Running { get; } = [];

        public long CacheUsed { get; set; }

        public bool Busy { get; set; }

        public int Outstanding => Waiting.Count + Running.Count;
    }

    /// <summary>A double-ended queue: arrivals join the back, preempted requests return to the front.</summary>
    private sealed class Deque<T>
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

    /// <summary>Streaming metrics: histograms and sums, nothing per request.</summary>
    private sealed class Metrics(ServingObjectives objectives)
    {
        private readonly LatencyHistogram timeToFirstToken = new();
        private readonly LatencyHistogram timePerOutputToken = new();
        private readonly LatencyHistogram interTokenLatency = new();
        private readonly LatencyHistogram endToEnd = new();
        private double first = double.NaN;
        private double last;
        private long outputTokens;
        private long inputTokens;
        private long withinObjectives;
        private long preemptions;
        private long iterations;
        private Flops work;
        private Bytes traffic;
        private Bytes sent;
        private Duration busyTime;

        public void Arrived(double time) => first = double.IsNaN(first) ? time : Math.Min(first, time);

        public void Preempted() => preemptions++;

        public void Token(double gap) => interTokenLatency.Add(gap);

        public void Iterated(IterationWork iteration)
        {
            iterations++;
            work += iteration.Work;
            traffic += iteration.MemoryTraffic;
            sent += iteration.LinkTraffic;
            busyTime += iteration.Time;
        }

        public void Completed(Active active, double now)
        {
            var ttft = active.FirstToken - active.Request.Arrival;
            var output = active.Request.OutputTokens;
            var tpot = output > 1 ? (now - active.FirstToken) / (output - 1) : 0;
            timeToFirstToken.Add(ttft);
            timePerOutputToken.Add(tpot);
            endToEnd.Add(now - active.Request.Arrival);
            outputTokens += output;
            inputTokens += active.Request.InputTokens;
            last = Math.Max(last, now);
            if (ttft <= objectives.TimeToFirstToken.Seconds && tpot <= objectives.TimePerOutputToken.Seconds)
            {
                withinObjectives++;
            }
        }

        public ServingResult Result(ServingDeployment deployment, long refused) => new()
        {
            Completed = endToEnd.Count,
            Refused = refused,
            Preemptions = preemptions,
            Iterations = iterations,
            Makespan = Duration.FromSeconds(double.IsNaN(first) ? 0 : last - first),
            InputTokens = inputTokens,
            OutputTokens = outputTokens,
            WithinObjectives = withinObjectives,
            Objectives = objectives,
            TimeToFirstToken = Summary.Of(timeToFirstToken),
            TimePerOutputToken = Summary.Of(timePerOutputToken),
            InterTokenLatency = Summary.Of(interTokenLatency),
            EndToEnd = Summary.Of(endToEnd),
            Work = work,
            MemoryTraffic = traffic,
            LinkTraffic = sent,
            ReplicaBusyTime = busyTime,
            Replicas = deployment.Replicas,
            Chips = deployment.Cluster.ChipCount,
            KeyValueCapacityTokens = deployment.KeyValueCapacityTokens,
        };
    }
}
