using ClusterTwin.Reinforcement;
using ClusterTwin.Serving;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

public static partial class ScenarioLoader
{
    private static readonly Dictionary<string, RolloutPlacement> Placements = new() { ["colocated"] = RolloutPlacement.Colocated, ["separate"] = RolloutPlacement.Separate };

    private static readonly Dictionary<string, TrainerOffload> Offloads = new() { ["where-needed"] = TrainerOffload.WhereNeeded, ["always"] = TrainerOffload.Always, ["never"] = TrainerOffload.Never };

    /// <summary>The most responses one step generates: a million pack and serve in seconds.</summary>
    private const int MaximumResponses = 1_000_000;

    /// <summary>Why the trainer cannot be a pipeline over two kinds of chip.</summary>
    private const string ReinforcementMixedPipelineRefused = "an RL trainer runs on one kind of chip (a mixed pipeline is simulate's)";

    /// <summary>The scenario's word for <paramref name="placement"/> (<c>rl.placement</c>).</summary>
    public static string PlacementKey(RolloutPlacement placement) => Placements.First(entry => entry.Value == placement).Key;

    /// <summary>
    /// Loads an RL post-training scenario for <c>clustertwin rl</c> (docs/rl-post-training.md), or throws
    /// <see cref="InputException"/> with every problem; for <c>--splits</c> (<paramref name="splits"/>), also where its
    /// pools cannot be split (<see cref="PoolSplitSearch.Refusal"/>), at the field that says why.
    /// </summary>
    public static ReinforcementScenario LoadReinforcement(string path, HardwareCatalog catalog, bool splits = false)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        var reader = OpenScenario(path, ScenarioFileKind.Reinforcement);
        var scenario = ReadReinforcement(reader, reader.Root!, catalog, Path.GetFileNameWithoutExtension(path));
        if (splits && scenario is not null && PoolSplitSearch.Refusal(scenario) is { } refusal)
        {
            // The field's node, or the nearest block the file has on its path (a colocated rollout has no cluster).
            YamlNode node = reader.Root!;
            foreach (var key in refusal.Field.Split('.'))
            {
                node = YamlReader.Child(node as YamlMappingNode, key) ?? node;
            }

            reader.Error(node, refusal.Field, "--splits " + refusal.Reason);
        }

        ThrowIfUnread(reader, path, scenario is not null);
        return scenario!;
    }

    /// <summary>Reads the RL scenario <paramref name="reader"/> holds (a sweep's point), named <paramref name="name"/>, as <see cref="LoadReinforcement"/> reads a file.</summary>
    internal static ReinforcementScenario ReadReinforcementPoint(YamlReader reader, string name, HardwareCatalog catalog)
    {
        var scenario = ReadReinforcement(reader, reader.Root!, catalog, name);
        ThrowIfUnread(reader, reader.File, scenario is not null);
        return scenario!;
    }

    // The file: the model once, the trainer as a training scenario without it, the rollout as a serving pool, and the step.
    private static ReinforcementScenario? ReadReinforcement(YamlReader reader, YamlMappingNode root, HardwareCatalog catalog, string fallbackName)
    {
        reader.CheckKeys(root, string.Empty, "name", "description", "model", "trainer", "rollout", "rl", "published");
        var name = reader.String(root, "name", string.Empty, required: false) ?? fallbackName;
        _ = reader.String(root, "description", string.Empty, required: false);
        var model = ReadModel(reader, root, "model", catalog);
        var settings = ReadReinforcementSettings(reader, reader.Mapping(root, "rl", string.Empty, required: true), catalog);
        var published = ReadPublishedStep(reader, reader.Mapping(root, "published", string.Empty, required: false));
        var trainerMap = reader.Mapping(root, "trainer", string.Empty, required: true);
        var rolloutMap = reader.Mapping(root, "rollout", string.Empty, required: true);
        var training = trainerMap is null ? null : ReadTrainerBlocks(reader, trainerMap);
        if (rolloutMap is not null)
        {
            reader.CheckKeys(rolloutMap, "rollout", "cluster", "serving", "cost", "facility");
            RefuseColocatedPool(reader, rolloutMap, settings);
        }

        if (model is null || settings is null || trainerMap is null || rolloutMap is null || training is null || reader.Diagnostics.Count > 0)
        {
            return null;
        }

        // The model is named once, at the top: RL trains the model it generates with. The trainer's batch is a
        // placeholder here, set per step from the responses (ReinforcementSimulator); colocated, the rollout runs on
        // the trainer's cluster.
        trainerMap.Children[new YamlScalarNode("model")] = root.Children[new YamlScalarNode("model")];
        training.Children[new YamlScalarNode("global_batch")] = new YamlScalarNode("1");
        var trainer = Read(reader, trainerMap, "trainer", catalog, name, ReinforcementMixedPipelineRefused);
        if (trainer is null || reader.Diagnostics.Count > 0)
        {
            return null;
        }

        if (settings.Placement == RolloutPlacement.Colocated)
        {
            rolloutMap.Children[new YamlScalarNode("cluster")] = trainerMap.Children[new YamlScalarNode("cluster")];
        }

        var (rollout, rolloutCost) = ReadPool(reader, rolloutMap, "rollout", catalog, model);
        if (rollout is null || reader.Diagnostics.Count > 0)
        {
            return null;
        }

        CheckPools(reader, settings, (trainer, trainerMap), (rollout, rolloutMap));
        CheckSampleLength(reader, settings, trainer, training);
        return reader.Diagnostics.Count > 0 ? null : new ReinforcementScenario(name, trainer, rollout, rolloutCost, settings) { Published = published };
    }

    // The trainer's blocks, and its training block, without the fields the step sets.
    private static YamlMappingNode? ReadTrainerBlocks(YamlReader reader, YamlMappingNode trainerMap)
    {
        reader.CheckKeys(trainerMap, "trainer", "cluster", "training", "plan", "cost", "facility");
        var training = reader.Mapping(trainerMap, "training", "trainer", required: true);
        foreach (var (key, why) in new[]
        {
            ("global_batch", "is set by each step's responses, packed into sequences of training.sequence_length (rl.prompts x rl.samples, split into rl.updates mini-batches)"),
            ("tokens", "does not apply: an RL run's length is rl.steps"),
        })
        {
            if (YamlReader.Child(training, key) is { } set)
            {
                reader.Error(set, YamlReader.Join("trainer.training", key), $"{why}; remove it");
            }
        }

        return training;
    }

    // Colocated, the rollout has no cluster, prices or facility of its own.
    private static void RefuseColocatedPool(YamlReader reader, YamlMappingNode rolloutMap, ReinforcementSettings? settings)
    {
        if (settings?.Placement != RolloutPlacement.Colocated)
        {
            return;
        }

        foreach (var key in new[] { "cluster", "cost", "facility" })
        {
            if (YamlReader.Child(rolloutMap, key) is { } own)
            {
                reader.Error(own, YamlReader.Join("rollout", key), "does not apply to placement: colocated (the rollout engine runs on the trainer's chips, at its prices); remove it, or use placement: separate for a pool of its own");
            }
        }
    }

    // Separate pools send the weights over the scale-out fabric, unless a measured rate is given.
    private static void CheckPools(YamlReader reader, ReinforcementSettings settings, (Scenarios.Scenario Scenario, YamlMappingNode Map) trainer, (ServingDeployment Deployment, YamlMappingNode Map) rollout)
    {
        if (settings.Placement == RolloutPlacement.Colocated || settings.WeightUpdateBandwidth is not null)
        {
            return;
        }

        foreach (var (cluster, map, key) in new[] { (trainer.Scenario.Cluster, trainer.Map, "trainer"), (rollout.Deployment.Cluster, rollout.Map, "rollout") })
        {
            if (cluster.System.ScaleOutBandwidth is null)
            {
                reader.Error(YamlReader.Child(YamlReader.Child(map, "cluster") as YamlMappingNode, "system"), key + ".cluster.system",
                    $"{cluster.System.Name} has no scale-out bandwidth in the catalogue, over which separate pools send the weights: give rl.weight_update_bandwidth (a measured rate), or use placement: colocated");
            }
        }
    }

    // Samples are packed whole: the longest must fit a trainer's sequence.
    private static void CheckSampleLength(YamlReader reader, ReinforcementSettings settings, Scenarios.Scenario trainer, YamlMappingNode training)
    {
        var longest = (long)settings.PromptTokens.High + settings.ResponseTokens.High;
        if (longest > trainer.Job.SequenceLength)
        {
            reader.Error(YamlReader.Child(training, "sequence_length"), "trainer.training.sequence_length",
                $"{trainer.Job.SequenceLength:N0} is shorter than the longest sample, a prompt and its response of up to {longest:N0} tokens (samples are packed whole): use at least {longest:N0}, or bound rl.prompt_tokens and rl.response_tokens lower");
        }
    }

    // A measured step time and its source, both required where the block is given.
    private static PublishedStep? ReadPublishedStep(YamlReader reader, YamlMappingNode? map)
    {
        if (map is null)
        {
            return null;
        }

        reader.CheckKeys(map, "published", "step", "source");
        var step = reader.Quantity<Units.Duration>(map, "step", "published", required: true, range: PlausibleRange.StepTime);
        var source = reader.String(map, "source", "published");
        if (step == Units.Duration.Zero)
        {
            reader.Error(YamlReader.Child(map, "step"), "published.step", "0 s is not a measured step (expected the step time the source measured, such as 97.7 s)");
            return null;
        }

        return step is null || source is null ? null : new PublishedStep(step.Value, source);
    }

    private static ReinforcementSettings? ReadReinforcementSettings(YamlReader reader, YamlMappingNode? map, HardwareCatalog catalog)
    {
        if (map is null)
        {
            return null;
        }

        const string Block = "rl";
        reader.CheckKeys(map, Block, "placement", "prompts", "samples", "prompt_tokens", "response_tokens", "updates", "reference_model", "recompute_log_probs", "critic", "reward_model", "offload", "weight_update_bandwidth", "off_policy", "steps", "seed");
        var placement = reader.Enumeration(map, "placement", Block, Placements);
        var prompts = reader.Integer(map, "prompts", Block, 1, MaximumResponses);
        var samples = reader.Integer(map, "samples", Block, 1, 1024, required: false) ?? 1;
        var promptTokens = ReadTokens(reader, map, "prompt_tokens", required: true, Block);
        var responseTokens = ReadTokens(reader, map, "response_tokens", required: true, Block);
        var updates = reader.Integer(map, "updates", Block, 1, MaximumResponses, required: false) ?? 1;
        var reference = reader.Boolean(map, "reference_model", Block) ?? true;
        var recompute = reader.Boolean(map, "recompute_log_probs", Block) ?? true;
        var critic = reader.Boolean(map, "critic", Block) ?? false;
        var rewardModel = YamlReader.Child(map, "reward_model") is null ? null : ReadModel(reader, map, "rl.reward_model", catalog, "reward_model");
        var offload = reader.Enumeration(map, "offload", Block, Offloads, required: false);
        var updateRate = reader.Quantity<Units.Bandwidth>(map, "weight_update_bandwidth", Block, required: false, range: PlausibleRange.Bandwidth);
        var offPolicy = reader.Integer(map, "off_policy", Block, 0, 1, required: false) ?? 0;
        var steps = reader.Integer(map, "steps", Block, 1, 1_000_000_000, required: false);
        var seed = reader.Integer(map, "seed", Block, 0, int.MaxValue, required: false) ?? 1;
        if (prompts is { } count && (long)count * samples > MaximumResponses)
        {
            reader.Error(YamlReader.Child(map, "samples") ?? map, "rl.samples", $"{count:N0} prompts x {samples} samples are {(long)count * samples:N0} responses a step, past the {MaximumResponses:N0} a step may hold");
        }
        else if (prompts is { } total && updates > (long)total * samples)
        {
            reader.Error(YamlReader.Child(map, "updates"), "rl.updates", $"{updates:N0} mini-batches cannot split {(long)total * samples:N0} responses (expected at most one mini-batch per response)");
        }

        if (placement == RolloutPlacement.Separate && offload is not null)
        {
            reader.Error(YamlReader.Child(map, "offload"), "rl.offload", "applies to placement: colocated (separate pools keep the trainer's state on its own chips); remove it");
        }

        if (placement == RolloutPlacement.Colocated && offPolicy > 0)
        {
            reader.Error(YamlReader.Child(map, "off_policy"), "rl.off_policy", "needs placement: separate (colocated, the chips generate and train one after the other, so the next rollout cannot run beside this step's training)");
        }

        return placement is null || prompts is null || promptTokens is null || responseTokens is null ? null : new ReinforcementSettings
        {
            Placement = placement.Value,
            Prompts = prompts.Value,
            Samples = samples,
            PromptTokens = promptTokens.Value,
            ResponseTokens = responseTokens.Value,
            Updates = updates,
            ReferenceModel = reference,
            RecomputeLogProbabilities = recompute,
            Critic = critic,
            RewardModel = rewardModel,
            Offload = offload ?? TrainerOffload.WhereNeeded,
            WeightUpdateBandwidth = updateRate,
            OffPolicySteps = offPolicy,
            Steps = steps,
            Seed = seed,
        };
    }
}
