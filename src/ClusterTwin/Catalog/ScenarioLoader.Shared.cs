using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Hardware;
using ClusterTwin.Sharing;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

public static partial class ScenarioLoader
{
    private static readonly Dictionary<string, PlacementPolicy> PlacementPolicies = new()
    {
        ["packed"] = PlacementPolicy.Packed,
        ["spread"] = PlacementPolicy.Spread,
        ["random"] = PlacementPolicy.Random,
    };

    /// <summary>The blocks of a shared cluster's job that a training scenario has (besides <c>systems</c>): no cluster, resilience, stragglers or mixed pipeline.</summary>
    private static readonly string[] JobFields = ["name", "description", "model", "training", "plan", "cost", "facility"];

    /// <summary>The blocks every job names.</summary>
    private static readonly string[] RequiredJobFields = ["model", "training", "plan"];

    /// <summary>The most jobs one shared cluster holds: each is simulated a few dozen times over.</summary>
    private const int MaximumJobs = 1_000;

    /// <summary>The most systems a shared cluster holds (each is placed one by one).</summary>
    private const int MaximumSharedSystems = 1_000_000;

    /// <summary>The largest oversubscription a tier may be given: past it a tier is a bottleneck, not a design.</summary>
    private const double MaximumOversubscription = 64;

    /// <summary>The scenario's word for <paramref name="policy"/> (<c>placement</c>).</summary>
    public static string PlacementPolicyKey(PlacementPolicy policy) => PlacementPolicies.First(entry => entry.Value == policy).Key;

    /// <summary>
    /// Loads a shared cluster for <c>clustertwin share</c> (docs/shared-clusters.md): a cluster, how its systems are
    /// dealt, and its jobs, each a training scenario's blocks on some of its systems; or throws
    /// <see cref="InputException"/> with every problem.
    /// </summary>
    public static SharedCluster LoadShared(string path, HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path, ScenarioFileKind.Shared);
        var shared = ReadShared(reader, reader.Root!, catalog, Path.GetFileNameWithoutExtension(path));
        ThrowIfUnread(reader, path, shared is not null);
        return shared!;
    }

    /// <summary>Reads the shared cluster <paramref name="reader"/> holds (a sweep's point), named <paramref name="name"/>, as <see cref="LoadShared"/> reads a file.</summary>
    internal static SharedCluster ReadSharedPoint(YamlReader reader, string name, HardwareCatalog catalog)
    {
        var shared = ReadShared(reader, reader.Root!, catalog, name);
        ThrowIfUnread(reader, reader.File, shared is not null);
        return shared!;
    }

    private static SharedCluster? ReadShared(YamlReader reader, YamlMappingNode root, HardwareCatalog catalog, string fallbackName)
    {
        reader.CheckKeys(root, string.Empty, "name", "description", "cluster", "placement", "seed", "jobs");
        var name = reader.String(root, "name", string.Empty, required: false) ?? fallbackName;
        _ = reader.String(root, "description", string.Empty, required: false);
        var clusterMap = reader.Mapping(root, "cluster", string.Empty, required: true);
        // The cluster block is a training scenario's, and oversubscription besides: read it without that field (the
        // block is taken out of the file's tree; a sweep's point parses the file anew).
        var ratios = YamlReader.Child(clusterMap, "oversubscription");
        clusterMap?.Children.Remove(new YamlScalarNode("oversubscription"));
        var errorsBefore = reader.Diagnostics.Count;
        if (YamlReader.Child(clusterMap, "chips") is { } chips)
        {
            reader.Error(chips, "cluster.chips", "a shared cluster deals whole systems to its jobs: give count, the number of systems");
        }
        else if (clusterMap is not null && YamlReader.Child(clusterMap, "fabric") is null && YamlReader.Scalar(YamlReader.Child(clusterMap, "count")) is { } count && count != "1")
        {
            reader.Error(clusterMap, "cluster.fabric", $"missing: the jobs share a scale-out fabric (expected one of: {string.Join(", ", catalog.Fabrics.Keys)})");
        }

        var cluster = clusterMap is null || reader.Diagnostics.Count > errorsBefore ? null : ReadCluster(reader, clusterMap, "cluster", catalog);
        if (reader.Diagnostics.Count > errorsBefore)
        {
            // Its jobs would repeat each of its errors; and an unknown fabric has no tiers to give ratios to.
            cluster = null;
        }

        if (cluster is not null && ratios is not null)
        {
            cluster = ReadOversubscription(reader, ratios, cluster, clusterMap!);
        }

        var countNode = YamlReader.Child(clusterMap, "count") ?? YamlReader.Child(clusterMap, "chips");
        if (cluster is { SystemCount: > MaximumSharedSystems })
        {
            // Each system is placed one by one: a placement, unlike a single job's step, costs the systems.
            reader.Error(countNode, "cluster.count", $"{cluster.SystemCount:N0} systems; a shared cluster places at most {MaximumSharedSystems:N0}");
            cluster = null;
        }
        else if (cluster is { SystemCount: > 1 } && cluster.ChipCount > cluster.Fabric.MaximumEndpoints)
        {
            reader.Error(countNode, "cluster.count", $"the fabric {cluster.Fabric.Id} reaches at most {cluster.Fabric.MaximumEndpoints:N0} chips; the cluster has {cluster.ChipCount:N0} (fewer systems, or a fabric of more tiers)");
            cluster = null;
        }

        var placement = reader.Enumeration(root, "placement", string.Empty, PlacementPolicies, required: false) ?? PlacementPolicy.Packed;
        // The random placement's seed; the others take none (a sweep may vary the placement of a file that names one).
        var seed = reader.Integer(root, "seed", string.Empty, 0, int.MaxValue, required: false);

        var jobs = cluster is null ? null : ReadSharedJobs(reader, root, catalog, cluster, clusterMap!);
        return cluster is null || jobs is null || reader.Diagnostics.Count > 0 ? null : new SharedCluster(name, cluster, placement, seed ?? 1, jobs.Value);
    }

    // A ratio per tier of the cluster's fabric, from the leaf up, in place of the catalogue's: a design to try.
    private static Cluster? ReadOversubscription(YamlReader reader, YamlNode node, Cluster cluster, YamlMappingNode clusterMap)
    {
        var tiers = cluster.Fabric.Tiers;
        if (YamlReader.Child(clusterMap, "fabric") is null)
        {
            reader.Error(node, "cluster.oversubscription", "the cluster names no fabric (one system, nothing between systems to oversubscribe): remove it, or name the fabric");
            return null;
        }

        var names = string.Join(", ", tiers.Select(tier => tier.Name));
        if (node is not YamlSequenceNode list || list.Children.Count != tiers.Length)
        {
            reader.Error(node, "cluster.oversubscription", $"expected a list of {tiers.Length} ratios, one per tier of {cluster.Fabric.Id} from the leaf up ({names}), such as [{string.Join(", ", tiers.Select(tier => YamlReader.NumberText(tier.Oversubscription)))}]");
            return null;
        }

        var changed = tiers.ToBuilder();
        for (var index = 0; index < list.Children.Count; index++)
        {
            var field = $"cluster.oversubscription[{index}]";
            var text = YamlReader.Scalar(list.Children[index]);
            if (text is null || !double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var ratio) || !double.IsFinite(ratio))
            {
                reader.Error(list.Children[index], field, $"'{text}' is not a number (expected the {tiers[index].Name} tier's downlink to uplink ratio, 1 for non-blocking)");
            }
            else if (ratio < 1 || ratio > MaximumOversubscription)
            {
                reader.Error(list.Children[index], field, $"{text} is out of range (expected 1, non-blocking, to {YamlReader.NumberText(MaximumOversubscription)})");
            }
            else if (index == list.Children.Count - 1 && ratio != 1)
            {
                reader.Error(list.Children[index], field, $"{text}: the top tier ({tiers[index].Name}) has no uplinks above it, so its ratio is 1 (oversubscribe the tiers below it)");
            }
            else
            {
                changed[index] = tiers[index] with { Oversubscription = ratio };
            }
        }

        return cluster with { Fabric = cluster.Fabric with { Tiers = changed.MoveToImmutable() } };
    }

    // A job as a training scenario: its own blocks (a copy of the mapping, the file's nodes shared: a job given twice by
    // an alias is read twice alike) and a cluster of its systems, the shared one's system and fabric.
    private static YamlMappingNode JobScenario(YamlMappingNode job, YamlMappingNode clusterMap, int systems)
    {
        var scenario = new YamlMappingNode();
        foreach (var (key, value) in job.Children.Where(field => JobFields.Contains(YamlReader.Scalar(field.Key))))
        {
            scenario.Children[key] = value;
        }

        var ownCluster = new YamlMappingNode();
        foreach (var (key, value) in clusterMap.Children.Where(field => YamlReader.Scalar(field.Key) is not "count"))
        {
            ownCluster.Children[key] = value;
        }

        ownCluster.Children[new YamlScalarNode("count")] = new YamlScalarNode(systems.ToString(CultureInfo.InvariantCulture));
        scenario.Children[new YamlScalarNode("cluster")] = ownCluster;
        return scenario;
    }

    // Each job: a training scenario's blocks without a cluster, on `systems` of the shared cluster's.
    private static ImmutableArray<SharedJob>? ReadSharedJobs(YamlReader reader, YamlMappingNode root, HardwareCatalog catalog, Cluster cluster, YamlMappingNode clusterMap)
    {
        var node = YamlReader.Child(root, "jobs");
        if (node is not YamlSequenceNode { Children.Count: > 0 } list)
        {
            reader.Error(node ?? root, "jobs", "expected a list of jobs, each with systems, model, training and plan (docs/shared-clusters.md)");
            return null;
        }

        if (list.Children.Count > MaximumJobs)
        {
            reader.Error(list, "jobs", $"{list.Children.Count:N0} jobs; at most {MaximumJobs:N0}");
            return null;
        }

        var jobs = ImmutableArray.CreateBuilder<SharedJob>();
        var systemsTaken = 0L;
        for (var index = 0; index < list.Children.Count; index++)
        {
            var path = $"jobs[{index}]";
            if (list.Children[index] is not YamlMappingNode job)
            {
                reader.Error(list.Children[index], path, "expected a mapping: a job's name, systems, model, training and plan");
                continue;
            }

            var errorsBefore = reader.Diagnostics.Count;
            reader.CheckKeys(job, path, [.. JobFields, "systems"]);
            var systems = reader.Integer(job, "systems", path, 1, cluster.SystemCount);
            foreach (var required in RequiredJobFields.Where(field => YamlReader.Child(job, field) is null))
            {
                reader.Error(job, YamlReader.Join(path, required), $"missing (a job is a training scenario's {string.Join(", ", JobFields)} blocks: docs/shared-clusters.md)");
            }

            if (systems is null || reader.Diagnostics.Count > errorsBefore)
            {
                systemsTaken += systems ?? 0;
                continue;
            }

            systemsTaken += systems.Value;
            var scenario = Read(reader, JobScenario(job, clusterMap, systems.Value), path, catalog, $"job {index + 1}", "a shared cluster's job runs on one kind of chip (a mixed pipeline is simulate's)");
            if (scenario is not null)
            {
                jobs.Add(new SharedJob(scenario.Name, scenario with { Cluster = scenario.Cluster with { Fabric = cluster.Fabric } }));
            }
        }

        if (systemsTaken > cluster.SystemCount)
        {
            reader.Error(list, "jobs", $"the jobs hold {systemsTaken:N0} systems together; the cluster has {cluster.SystemCount:N0} (fewer systems per job, or a larger cluster.count)");
        }

        return reader.Diagnostics.Count > 0 ? null : jobs.ToImmutable();
    }
}
