using ClusterTwin.Units;

namespace ClusterTwin.Serving;

/// <summary>Streaming metrics of a serving run: histograms and sums, nothing per request.</summary>
internal sealed class ServingMetrics(ServingObjectives objectives, FrontEnd frontEnd)
{
    private readonly LatencyHistogram timeToFirstToken = new();
    private readonly LatencyHistogram timePerOutputToken = new();
    private readonly LatencyHistogram interTokenLatency = new();
    private readonly LatencyHistogram endToEnd = new();
    private readonly LatencyHistogram transfer = new();
    private double first = double.NaN;
    private double last;
    private long outputTokens;
    private long inputTokens;
    private double withinObjectives;
    private long admitted;

    public void Arrived(double time)
    {
        first = double.IsNaN(first) ? time : Math.Min(first, time);
        admitted++;
    }

    public void Token(double gap) => interTokenLatency.Add(gap);

    public void Transferred(double seconds) => transfer.Add(seconds);

    public void Completed(ActiveRequest active, double now)
    {
        // The front end's time comes before the chips see the request: it delays the first token and the last alike.
        // Its median is added here, its spread when the run is summarized (Summary.Of).
        var front = frontEnd.Median.Seconds;
        var ttft = active.FirstToken - active.Request.Arrival + front;
        var output = active.Request.OutputTokens;
        var tpot = output > 1 ? (now - active.FirstToken) / (output - 1) : 0;
        timeToFirstToken.Add(ttft);
        timePerOutputToken.Add(tpot);
        endToEnd.Add(now - active.Request.Arrival + front);
        outputTokens += output;
        inputTokens += active.Request.InputTokens;
        last = Math.Max(last, now);
        if (tpot <= objectives.TimePerOutputToken.Seconds)
        {
            withinObjectives += frontEnd.ShareWithin(objectives.TimeToFirstToken.Seconds - ttft);
        }
    }

    /// <summary>The run's result over its pools (before energy and cost).</summary>
    public ServingResult Result(IReadOnlyList<ServingPool> pools, long refused) => new()
    {
        Completed = endToEnd.Count,
        Refused = refused,
        Unfinished = admitted - endToEnd.Count,
        Preemptions = pools.Sum(pool => pool.Preemptions),
        Iterations = pools.Sum(pool => pool.Iterations),
        Makespan = Duration.FromSeconds(double.IsNaN(first) ? 0 : last - first),
        InputTokens = inputTokens,
        OutputTokens = outputTokens,
        WithinObjectives = withinObjectives,
        Objectives = objectives,
        TimeToFirstToken = Summary.Of(timeToFirstToken, frontEnd),
        TimePerOutputToken = Summary.Of(timePerOutputToken),
        InterTokenLatency = Summary.Of(interTokenLatency),
        EndToEnd = Summary.Of(endToEnd, frontEnd),
        KeyValueTransfer = transfer.Count > 0 ? Summary.Of(transfer) : null,
        Work = pools.Aggregate(Flops.Zero, (sum, pool) => sum + pool.Work),
        MemoryTraffic = pools.Aggregate(Bytes.Zero, (sum, pool) => sum + pool.MemoryTraffic),
        LinkTraffic = pools.Aggregate(Bytes.Zero, (sum, pool) => sum + pool.LinkTraffic),
        ReplicaBusyTime = pools.Aggregate(Duration.Zero, (sum, pool) => sum + pool.BusyTime),
        Replicas = pools.Sum(pool => pool.Deployment.Replicas),
        Chips = pools.Sum(pool => pool.Deployment.Cluster.ChipCount),
        KeyValueCapacityTokens = pools[^1].Deployment.KeyValueCapacityTokens,
    };
}
