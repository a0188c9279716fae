using System.Collections.Immutable;
using ClusterTwin.Economics;

namespace ClusterTwin.Serving;

/// <summary>
/// An event-level simulation of serving: requests arrive, a router sends each to the replica with the fewest
/// outstanding requests, and each replica runs iterations as continuous-batching servers do (<see cref="ServingPool"/>).
/// Disaggregated, prompts are prefilled on one pool and, once the first token is out, each request's key-value cache
/// crosses the prefill replica's link to the decode pool (docs/serving.md). Memory grows with the requests in
/// flight, never with the length of the trace.
/// </summary>
public static class ServingSimulator
{
    /// <summary>
    /// Simulates <paramref name="workload"/> on <paramref name="deployment"/>, with the run's energy and, at
    /// <paramref name="cost"/>'s prices, its cost.
    /// </summary>
    public static ServingResult Run(ServingDeployment deployment, RequestWorkload workload, ServingObjectives? objectives = null, CostSettings? cost = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return Simulate([(PoolRole.Unified, deployment, cost)], null, workload, objectives);
    }

    /// <summary>
    /// Simulates <paramref name="workload"/> on a disaggregated deployment, with each pool's energy and cost at its
    /// own prices (<paramref name="prefillCost"/>, <paramref name="decodeCost"/>).
    /// </summary>
    public static ServingResult Run(DisaggregatedDeployment deployment, RequestWorkload workload, ServingObjectives? objectives = null, CostSettings? prefillCost = null, CostSettings? decodeCost = null)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return Simulate([(PoolRole.Prefill, deployment.Prefill, prefillCost), (PoolRole.Decode, deployment.Decode, decodeCost)], deployment, workload, objectives);
    }

    private static ServingResult Simulate((PoolRole Role, ServingDeployment Deployment, CostSettings? Cost)[] specifications, DisaggregatedDeployment? split, RequestWorkload workload, ServingObjectives? objectives)
    {
        ArgumentNullException.ThrowIfNull(workload);
        var metrics = new ServingMetrics(objectives ?? new ServingObjectives(), specifications[0].Deployment.FrontEnd);
        var transfers = new PriorityQueue<ActiveRequest, (double Ready, long Order)>();
        var order = 0L;
        var pools = new ServingPool[specifications.Length];
        var transfer = split?.Transfer;
        var lanes = split?.TransferLanes ?? 1;
        for (var index = 0; index < pools.Length; index++)
        {
            var owner = index;
            pools[index] = new ServingPool(index, specifications[index].Role, specifications[index].Deployment, (replica, active, now) =>
            {
                // The cache leaves once the first token is out; transfers from one replica queue on its links (a
                // pipelined replica's stages share them), on the lane that frees first.
                var free = pools[owner][split!.LinkOwner(replica.Index)].LinkFree ??= new double[lanes];
                var lane = 0;
                for (var other = 1; other < free.Length; other++)
                {
                    lane = free[other] < free[lane] ? other : lane;
                }

                var start = Math.Max(now, free[lane]);
                var ready = start + transfer!.Value.Time(pools[owner].Layout.Units(active.Request.InputTokens)).Seconds;
                free[lane] = ready;
                metrics.Transferred(ready - now);
                transfers.Enqueue(active, (ready, order++));
            });
        }

        var entry = pools[0];
        var busy = new PriorityQueue<(ServingPool Pool, Replica Replica), (double End, int Pool, int Index)>();
        using var arrivals = workload.Stream().GetEnumerator();
        var pending = arrivals.MoveNext() ? arrivals.Current : (Request?)null;
        var refused = 0L;

        // A request whose prompt cannot be prefilled, or whose whole context cannot be held where it decodes, is
        // refused (as a server refuses one beyond its context limit) rather than left waiting forever.
        var prefillLimit = pools[0].Deployment.KeyValueCapacityUnitsPerRequest;
        var decodeLimit = pools[^1].Deployment.KeyValueCapacityUnitsPerRequest;

        // Requests that reach an idle replica at one instant start it together: the replica's first iteration sees
        // every one of them, as a server that finds several requests queued batches them all (static batching starts
        // the whole batch together). Idle replicas are started once the instant's arrivals and transfers are all in.
        var starting = new List<(ServingPool Pool, Replica Replica)>();
        var instant = double.NegativeInfinity;
        while (true)
        {
            var hasEnd = busy.TryPeek(out var next, out var end);
            var hasTransfer = transfers.TryPeek(out var moved, out var ready);
            var nextEvent = Math.Min(hasEnd ? end.End : double.PositiveInfinity, hasTransfer ? ready.Ready : double.PositiveInfinity);
            var nextDelivery = Math.Min(pending?.Arrival ?? double.PositiveInfinity, hasTransfer ? ready.Ready : double.PositiveInfinity);
            if (starting.Count > 0 && nextDelivery > instant)
            {
                foreach (var (pool, replica) in starting)
                {
                    replica.StartPending = false;
                    pool.Start(replica, instant, busy, metrics);
                }

                starting.Clear();
                continue;
            }

            if (pending is { } request && request.Arrival <= nextEvent)
            {
                if (pools[0].Layout.Units(request.InputTokens + 1) > prefillLimit || pools[^1].Layout.Units((long)request.InputTokens + request.OutputTokens + 1) > decodeLimit)
                {
                    refused++;
                }
                else
                {
                    metrics.Arrived(request.Arrival);
                    instant = request.Arrival;
                    Arrive(entry, new ActiveRequest(request), starting);
                }

                pending = arrivals.MoveNext() ? arrivals.Current : null;
                continue;
            }

            if (hasTransfer && ready.Ready <= nextEvent)
            {
                transfers.Dequeue();
                instant = ready.Ready;
                Arrive(pools[^1], moved!, starting);
                continue;
            }

            if (!hasEnd)
            {
                break;
            }

            busy.Dequeue();
            next.Pool.Finish(next.Replica, end.End, metrics);
            next.Pool.Start(next.Replica, end.End, busy, metrics);
        }

        return Priced(metrics.Result(pools, refused), pools, specifications);
    }

    /// <summary>
    /// Routes <paramref name="active"/> in <paramref name="pool"/>; a replica it reaches idle joins
    /// <paramref name="starting"/>, to start once every arrival and transfer of the instant is routed.
    /// </summary>
    private static void Arrive(ServingPool pool, ActiveRequest active, List<(ServingPool Pool, Replica Replica)> starting)
    {
        var target = pool.Route(active);
        if (!target.Busy && !target.StartPending)
        {
            target.StartPending = true;
            starting.Add((pool, target));
        }
    }

    /// <summary>
    /// Each pool's energy and cost over the run, as one long step in which its chips idle when their replica does
    /// not iterate (none for a run without time or output); the run's energy per output token and cost per million
    /// add the pools.
    /// </summary>
    private static ServingResult Priced(ServingResult result, ServingPool[] pools, (PoolRole Role, ServingDeployment Deployment, CostSettings? Cost)[] specifications)
    {
        var usages = ImmutableArray.CreateBuilder<PoolUsage>();
        var priced = result.Makespan.Seconds > 0 && result.OutputTokens > 0;
        var sharing = SharedInstanceFactor(pools, specifications);
        foreach (var pool in pools)
        {
            var deployment = pool.Deployment;
            if (!priced)
            {
                usages.Add(new PoolUsage(pool.Role, deployment, deployment.Replicas, pool.BusyTime, pool.Iterations, deployment.KeyValueCapacityTokens, null, null));
                continue;
            }

            var activity = new StepActivity(result.Makespan, pool.Work, pool.MemoryTraffic, pool.LinkTraffic, result.OutputTokens, pool.Work, pool.Bf16Work);
            var energy = EnergyModel.Of(deployment.Cluster, deployment.WeightFormat.Precision, activity, (result.Makespan, result.Makespan), specifications[pool.Index].Cost?.PowerUsageEffectiveness);
            var held = energy?.StepTime ?? result.Makespan;
            var cost = specifications[pool.Index].Cost is not { } settings ? null
                : sharing is { } factor ? CostModel.Of(settings with { WholeInstances = false }, deployment.Cluster.ChipCount * factor, 1, held, held, held, result.OutputTokens, energy)
                : CostModel.Of(settings, deployment.Cluster.ChipCount, deployment.Cluster.SystemCount, held, held, held, result.OutputTokens, energy);
            usages.Add(new PoolUsage(pool.Role, deployment, deployment.Replicas, pool.BusyTime, pool.Iterations, deployment.KeyValueCapacityTokens, energy, cost));
        }

        var all = usages.ToImmutable();
        return result with { Pools = all };
    }

    /// <summary>
    /// Where two pools are parts of one system (a disaggregated deployment within its scale-up domain) rented by the
    /// whole instance at one price, the instances they rent together over the chips they use: each pool pays its
    /// chips' share of them (4 GPUs of prefill and 4 of decode on one 8-GPU server rent one server, not two). Null
    /// where the pools do not share an instance.
    /// </summary>
    private static double? SharedInstanceFactor(ServingPool[] pools, (PoolRole Role, ServingDeployment Deployment, CostSettings? Cost)[] specifications)
    {
        if (pools.Length != 2 || pools.Any(pool => pool.Deployment.Cluster is not { SystemCount: 1, System.WholeSystemId: not null }))
        {
            return null;
        }

        var (first, second) = (pools[0].Deployment.Cluster, pools[1].Deployment.Cluster);
        var chips = first.ChipCount + second.ChipCount;
        if (first.System.WholeSystemId != second.System.WholeSystemId || chips > first.System.DomainChips
            || specifications[pools[0].Index].Cost is not { Basis: CostBasis.Rental, WholeInstances: true, Rental: { } rental }
            || specifications[pools[1].Index].Cost is not { Basis: CostBasis.Rental, WholeInstances: true, Rental: { } other } || other.Id != rental.Id)
        {
            return null;
        }

        return Math.Ceiling(chips / (double)rental.Chips) * rental.Chips / chips;
    }
}
