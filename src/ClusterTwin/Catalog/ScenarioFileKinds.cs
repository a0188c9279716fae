using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>The kinds of scenario file, each read by its own commands.</summary>
internal enum ScenarioFileKind
{
    /// <summary>A training job on a cluster (<c>training</c>, and not a size search): simulate, plan, compare.</summary>
    Training,

    /// <summary>A served model and its requests (<c>serving</c> or <c>disaggregated</c>): serve.</summary>
    Serving,

    /// <summary>A deployment search (<c>search</c>, and not a size search): serve-search.</summary>
    ServingSearch,

    /// <summary>A cluster size search (<c>search</c> and <c>training</c>, or a <c>deadline</c> without a cluster): train-search.</summary>
    TrainingSearch,

    /// <summary>A measured run (<c>measured</c> and <c>scenario</c>): validate, simulate.</summary>
    ValidationCase,

    /// <summary>Reinforcement-learning post-training (<c>rl</c>): rl.</summary>
    Reinforcement,

    /// <summary>Several training jobs on one cluster (<c>jobs</c>): share.</summary>
    Shared,
}

/// <summary>Tells a file given to the wrong command by the block that marks its kind, so that the error says so.</summary>
internal static class ScenarioFileKinds
{
    /// <summary>
    /// What <paramref name="root"/> is and which command reads it, where it lacks the block of <paramref name="expected"/>
    /// and has another kind's; null where it is the expected kind, or neither (its fields are then checked one by one).
    /// </summary>
    public static string? Mismatch(YamlMappingNode? root, ScenarioFileKind expected, string path)
    {
        if (root is null || Has(root, expected))
        {
            return null;
        }

        ScenarioFileKind[] others = [ScenarioFileKind.Shared, ScenarioFileKind.Reinforcement, ScenarioFileKind.ValidationCase, ScenarioFileKind.TrainingSearch, ScenarioFileKind.ServingSearch, ScenarioFileKind.Serving, ScenarioFileKind.Training];
        return others.Where(kind => kind != expected && Has(root, kind)).Select(kind => WrongCommand(root, kind, expected, path)).FirstOrDefault();
    }

    // What the file (its top level root) is and which command reads it.
    private static string WrongCommand(YamlMappingNode root, ScenarioFileKind kind, ScenarioFileKind expected, string path) => kind switch
    {
        ScenarioFileKind.ValidationCase when YamlReader.Child(root, "scenario") is YamlMappingNode scenario && Has(scenario, ScenarioFileKind.Serving) =>
            "is a serving validation case (it has measured and scenario blocks, the scenario a serving one): validate --cases compares the folder that holds it",
        ScenarioFileKind.ValidationCase => $"is a validation case (it has measured and scenario blocks): clustertwin simulate {path} runs it, and validate --cases compares a folder of them" +
            (expected == ScenarioFileKind.Training ? "; plan and compare read a scenario file (the case's scenario block is one)" : string.Empty),
        ScenarioFileKind.ServingSearch => $"is a deployment search (it has a search block): run clustertwin serve-search {path}",
        ScenarioFileKind.TrainingSearch => $"is a cluster size search (it has a deadline, or training and search blocks): run clustertwin train-search {path}",
        ScenarioFileKind.Serving => $"is a serving scenario (it has a serving block): run clustertwin serve {path}",
        ScenarioFileKind.Reinforcement => $"is an RL post-training scenario (it has an rl block): run clustertwin rl {path}",
        ScenarioFileKind.Shared => $"is a shared cluster (it has a jobs block): run clustertwin share {path}",
        _ => $"is a training scenario (it has a training block): run clustertwin simulate {path}, or plan to search its layouts",
    };

    /// <summary>Whether <paramref name="root"/> has the block that marks <paramref name="kind"/>.</summary>
    public static bool Is(YamlMappingNode root, ScenarioFileKind kind) => Has(root, kind);

    private static bool Has(YamlMappingNode root, ScenarioFileKind kind) => kind switch
    {
        ScenarioFileKind.Training => YamlReader.Child(root, "training") is not null && !Has(root, ScenarioFileKind.TrainingSearch),
        ScenarioFileKind.Reinforcement => YamlReader.Child(root, "rl") is not null,
        ScenarioFileKind.Shared => YamlReader.Child(root, "jobs") is not null,
        ScenarioFileKind.Serving => YamlReader.Child(root, "serving") is not null || YamlReader.Child(root, "disaggregated") is not null,
        ScenarioFileKind.ServingSearch => YamlReader.Child(root, "search") is not null && !Has(root, ScenarioFileKind.TrainingSearch),
        // A deadline marks a size search even without its search or training block (the error is then that block's),
        // but not in a file with a cluster or a served model: there it is a stray field of that file's kind.
        ScenarioFileKind.TrainingSearch => (YamlReader.Child(root, "deadline") is not null && YamlReader.Child(root, "cluster") is null && !Has(root, ScenarioFileKind.Serving))
            || (YamlReader.Child(root, "search") is not null && YamlReader.Child(root, "training") is not null),
        _ => YamlReader.Child(root, "measured") is not null && YamlReader.Child(root, "scenario") is not null,
    };
}
