using System.Collections.Immutable;
using ClusterTwin.Units;
using ClusterTwin.Workloads;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>Reads a training framework from <c>catalog/training-frameworks/</c>.</summary>
internal static class TrainingFrameworkReader
{

    public static TrainingFramework? Read(YamlReader reader)
    {
        var root = reader.Root!;
        reader.CheckKeys(root, string.Empty, "id", "name", "provenance", "default_for_vendors", "expert_launch", "expert_quantize_launch", "expert_launch_spread", "expert_overlap", "fully_sharded_weights", "gradient_reduction", "fit", "no_recompute_slowdown", "no_recompute_fit", "offloads_activations", "overlaps_interleaved_pipeline_sends", "saved_multiply_inputs", "collective_channels", "unfused_token_routing", "unfused_token_routing_range", "note");
        var id = reader.String(root, "id", string.Empty);
        var name = reader.String(root, "name", string.Empty);
        var provenance = reader.String(root, "provenance", string.Empty);
        var launch = Bounded(reader, root, "expert_launch", reader.Quantity<Duration>(root, "expert_launch", string.Empty));
        var quantize = Bounded(reader, root, "expert_quantize_launch", reader.Quantity<Duration>(root, "expert_quantize_launch", string.Empty, required: false)) ?? Duration.Zero;
        ImmutableArray<string> vendors = [];
        if (YamlReader.Child(root, "default_for_vendors") is { } node)
        {
            if (YamlReader.Names(node) is { } names)
            {
                vendors = names;
            }
            else
            {
                reader.Error(node, "default_for_vendors", "expected a list of chip vendors as the chip files write them, such as [NVIDIA, AMD]");
            }
        }

        var sharded = reader.Enumeration(root, "fully_sharded_weights", string.Empty, FullyShardedWeightsKeys.All, required: false) ?? FullyShardedWeights.ComputeAndMaster;
        var reduction = reader.Enumeration(root, "gradient_reduction", string.Empty, GradientReductionKeys.All, required: false) ?? GradientReduction.Fp32;
        var overlap = ReadOverlap(reader, reader.Mapping(root, "expert_overlap", string.Empty, required: false));
        var offloads = reader.Boolean(root, "offloads_activations", string.Empty) ?? false;
        var pipelineOverlap = reader.Boolean(root, "overlaps_interleaved_pipeline_sends", string.Empty) ?? false;
        var savedInputs = reader.Enumeration(root, "saved_multiply_inputs", string.Empty, SavedMultiplyInputsKeys.All, required: false) ?? SavedMultiplyInputs.HighPrecision;
        var channels = ReadChannels(reader, reader.Mapping(root, "collective_channels", string.Empty, required: false));
        var fit = FrameworkReader.ReadFit(reader, reader.Mapping(root, "fit", string.Empty, required: false));
        var spread = ReadSpread(reader, reader.Mapping(root, "expert_launch_spread", string.Empty, required: false));
        // A factor on kernel time: below 1 would make a framework faster than its kernels, above 3 is a typo.
        var slowdown = reader.Number(root, "no_recompute_slowdown", string.Empty, 1, 3, required: false);
        // A factor on the routing kernels' time: below 1 would make the unfused path faster than the fused kernels.
        var unfusedRouting = reader.Number(root, "unfused_token_routing", string.Empty, TrainingFramework.LeastUnfusedTokenRouting, TrainingFramework.MostUnfusedTokenRouting, required: false);
        var routingRange = ReadRoutingRange(reader, reader.Mapping(root, "unfused_token_routing_range", string.Empty, required: false), unfusedRouting, YamlReader.Child(root, "unfused_token_routing") is not null);
        var slowdownFit = FrameworkReader.ReadFit(reader, reader.Mapping(root, "no_recompute_fit", string.Empty, required: false), "no_recompute_fit");
        if (slowdownFit is not null && slowdown is null && YamlReader.Child(root, "no_recompute_slowdown") is null)
        {
            reader.Error(YamlReader.Child(root, "no_recompute_fit"), "no_recompute_fit", "a fit without the no_recompute_slowdown it fitted: add the factor (clustertwin calibrate --framework writes both), or remove the block");
        }
        return id is null || name is null || provenance is null || launch is null ? null : new TrainingFramework
        {
            Id = id,
            Name = name,
            Provenance = provenance,
            ExpertLaunch = launch.Value,
            ExpertQuantizeLaunch = quantize,
            DefaultForVendors = vendors,
            ExpertOverlap = overlap,
            FullyShardedWeights = sharded,
            GradientReduction = reduction,
            Fit = fit,
            ExpertLaunchSpread = spread,
            NoRecomputeSlowdown = slowdown,
            NoRecomputeFit = slowdownFit,
            OffloadsActivations = offloads,
            OverlapsInterleavedPipelineSends = pipelineOverlap,
            SavedMultiplyInputs = savedInputs,
            CollectiveChannels = channels,
            UnfusedTokenRouting = unfusedRouting,
            UnfusedTokenRoutingRange = routingRange,
        };
    }

    /// <summary>The framework's expert-communication overlap: both fractions are required, each 0 to 1.</summary>
    private static ExpertOverlap? ReadOverlap(YamlReader reader, YamlMappingNode? map)
    {
        if (map is null)
        {
            return null;
        }

        const string path = "expert_overlap";
        reader.CheckKeys(map, path, "realized", "communication_compute_share", "provenance");
        var realized = reader.Number(map, "realized", path, 0, 1);
        var share = reader.Number(map, "communication_compute_share", path, 0, 1);
        reader.String(map, "provenance", path);
        return realized is null || share is null ? null : new ExpertOverlap(realized.Value, share.Value);
    }

    /// <summary>
    /// The spread of the fitted runs' own launch times (<c>expert_launch_spread</c>): the 10th percentile a multiple of
    /// the fitted time from 0 to 1, the 90th from 1 to <see cref="ExpertLaunchSpread.HighLimit"/>, and the runs they are of.
    /// </summary>
    private static ExpertLaunchSpread? ReadSpread(YamlReader reader, YamlMappingNode? map)
    {
        if (map is null)
        {
            return null;
        }

        const string path = "expert_launch_spread";
        reader.CheckKeys(map, path, "low", "high", "runs");
        var low = reader.Number(map, "low", path, 0, 1);
        var high = reader.Number(map, "high", path, 1, ExpertLaunchSpread.HighLimit);
        var runs = reader.Integer(map, "runs", path, 1, 100_000);
        return low is null || high is null || runs is null ? null : new ExpertLaunchSpread(low.Value, high.Value, runs.Value);
    }

    /// <summary>The unfused routing's band ends: the low at most the central factor, the high at least it.</summary>
    private static UnfusedTokenRoutingRange? ReadRoutingRange(YamlReader reader, YamlMappingNode? map, double? central, bool centralGiven)
    {
        if (map is null)
        {
            return null;
        }

        const string path = "unfused_token_routing_range";
        if (!centralGiven)
        {
            reader.Error(map, path, "a range without the unfused_token_routing it surrounds: add the factor (clustertwin calibrate --token-routing writes both), or remove the block");
            return null;
        }

        reader.CheckKeys(map, path, "low", "high");
        var most = TrainingFramework.MostUnfusedTokenRouting;
        var low = reader.Number(map, "low", path, TrainingFramework.LeastUnfusedTokenRouting, central ?? most);
        var high = reader.Number(map, "high", path, central ?? TrainingFramework.LeastUnfusedTokenRouting, most);
        return low is null || high is null ? null : new UnfusedTokenRoutingRange(low.Value, high.Value);
    }

    /// <summary>
    /// The channels a data-parallel collective runs on the multiprocessors (<c>collective_channels</c>): per member in a
    /// system, the most, the multiprocessors they are a share of and the chip vendors they describe, with their provenance. More channels than half
    /// the multiprocessors is a typo: no library gives its collectives half the chip.
    /// </summary>
    private static CollectiveChannels? ReadChannels(YamlReader reader, YamlMappingNode? map)
    {
        if (map is null)
        {
            return null;
        }

        const string path = "collective_channels";
        reader.CheckKeys(map, path, "per_member", "most", "multiprocessors", "vendors", "provenance");
        var perMember = reader.Integer(map, "per_member", path, 1, 64);
        var most = reader.Integer(map, "most", path, 1, 256);
        var multiprocessors = reader.Integer(map, "multiprocessors", path, 1, 4096);
        reader.String(map, "provenance", path);
        var vendors = YamlReader.Names(YamlReader.Child(map, "vendors")) ?? [];
        if (vendors.IsEmpty)
        {
            reader.Error(YamlReader.Child(map, "vendors") ?? map, path + ".vendors", "expected a list of the chip vendors whose collective library these channels describe, as the chip files write them, such as [NVIDIA]");
        }

        if (perMember is null || most is null || multiprocessors is null || vendors.IsEmpty)
        {
            return null;
        }

        if (most > multiprocessors / 2)
        {
            reader.Error(YamlReader.Child(map, "most"), path + ".most", $"{most} channels of {multiprocessors} multiprocessors is more than half the chip (expected at most {multiprocessors / 2}; NCCL runs 16 to 32)");
            return null;
        }

        return new CollectiveChannels(perMember.Value, most.Value, multiprocessors.Value, vendors);
    }

    /// <summary>A host time per launch above 10 ms is a typo (hosts issue kernels in microseconds): refused, so it cannot stretch a step silently.</summary>
    private static Duration? Bounded(YamlReader reader, YamlMappingNode root, string key, Duration? value)
    {
        if (value is { } time && time > Duration.FromSeconds(0.01))
        {
            reader.Error(YamlReader.Child(root, key), key, $"{time} per launch is not a host's time to issue a kernel (expected at most 10 ms; the fitted times are tens of microseconds, such as '70 us')");
            return null;
        }

        return value;
    }
}
