using ClusterTwin.Serving;

namespace ClusterTwin.Tests.Support;

/// <summary>Deployments with a cache of a chosen size, whatever the chip's memory.</summary>
public static class ServingCaches
{
    /// <summary><paramref name="deployment"/> with the memory share that leaves about <paramref name="tokens"/> tokens of cache per replica.</summary>
    public static ServingDeployment WithCache(this ServingDeployment deployment, long tokens)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        var needed = deployment.WeightsPerChip.Count + (deployment.KeyValuePerTokenPerChip.Count * (tokens + 0.5));
        return deployment with { MemoryUtilization = needed / deployment.Cluster.Chip.MemoryCapacity.Value.Count };
    }
}
