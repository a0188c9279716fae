using System.ComponentModel;
using System.Globalization;
using ClusterTwin.Catalog;
using ClusterTwin.Cli.Reports;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli.Commands;

/// <summary><c>clustertwin sweep-launch SWEEP --engine slurm|kubernetes --shards N --out FILE [--threads T] [--image IMAGE]</c>.</summary>
public sealed class SweepLaunchCommand(IAnsiConsole console) : Command<SweepLaunchCommand.Settings>
{
    /// <summary>Arguments of <c>sweep-launch</c>.</summary>
    public sealed class Settings : CatalogSettings
    {
        /// <summary>The sweep file.</summary>
        [CommandArgument(0, "<SWEEP>")]
        [Description("Sweep file (YAML), as sweep reads it.")]
        public string Sweep { get; init; } = string.Empty;

        /// <summary>The engine the job is for.</summary>
        [CommandOption("--engine <ENGINE>")]
        [Description("slurm (an array job script for sbatch) or kubernetes (an Indexed Job manifest for kubectl apply).")]
        public string Engine { get; init; } = string.Empty;

        /// <summary>Shards, as typed.</summary>
        [CommandOption("--shards <N>")]
        [Description("How many shards (array tasks, or Job completions): each runs sweep --shard I/N.")]
        public string ShardsText { get; init; } = string.Empty;

        /// <summary>Threads per shard, as typed.</summary>
        [CommandOption("--threads <T>")]
        [Description("Cores each shard asks for and runs points on (default 4).")]
        public string ThreadsText { get; init; } = "4";

        /// <summary>The container image (Kubernetes).</summary>
        [CommandOption("--image <IMAGE>")]
        [Description("Kubernetes: a container image holding this repository with the tool built (docs/sweeps.md). Default clustertwin:latest.")]
        public string Image { get; init; } = "clustertwin:latest";

        /// <summary>The file to write.</summary>
        [CommandOption("--out <FILE>")]
        [Description("The job file to write (sweep.slurm, or sweep-job.yaml).")]
        public string? Out { get; init; }

        /// <summary>Shards.</summary>
        public int Shards => int.Parse(ShardsText, NumberStyles.None, CultureInfo.InvariantCulture);

        /// <summary>Threads per shard.</summary>
        public int Threads => int.Parse(ThreadsText, NumberStyles.None, CultureInfo.InvariantCulture);

        /// <inheritdoc />
        public override ValidationResult Validate()
        {
            if (base.Validate() is { Successful: false } missing)
            {
                return missing;
            }

            if (Engine is not ("slurm" or "kubernetes"))
            {
                return ValidationResult.Error($"--engine '{Engine}' is not an engine this writes jobs for (expected slurm or kubernetes)");
            }

            if (!int.TryParse(ShardsText, NumberStyles.None, CultureInfo.InvariantCulture, out var shards) || shards is < 1 or > 1_000_000)
            {
                return ValidationResult.Error($"--shards '{ShardsText}' is not a whole number from 1 to 1000000 (such as 64)");
            }

            if (Engine == "kubernetes" && shards > SweepJobs.KubernetesMostCompletions)
            {
                return ValidationResult.Error($"--shards {shards} is more than the {SweepJobs.KubernetesMostCompletions:N0} completions Kubernetes takes in an Indexed Job with a backoff limit per index");
            }

            if (!int.TryParse(ThreadsText, NumberStyles.None, CultureInfo.InvariantCulture, out var threads) || threads is < 1 or > 1024)
            {
                return ValidationResult.Error($"--threads '{ThreadsText}' is not a whole number from 1 to 1024 (such as 4)");
            }

            if (Out is null)
            {
                return ValidationResult.Error("sweep-launch needs --out FILE, the job file to write (such as sweep.slurm or sweep-job.yaml)");
            }

            if (string.IsNullOrWhiteSpace(Image) || Image.Any(character => char.IsWhiteSpace(character) || character is '"' or '\''))
            {
                return ValidationResult.Error($"--image '{Image}' is not an image name (expected such as registry.example.com/clustertwin:1.0)");
            }

            CatalogSettings.CheckOutputFile(Out, "--out", "the job file", Engine == "slurm" ? "sweep.slurm" : "sweep-job.yaml");
            return ValidationResult.Success();
        }
    }

    /// <inheritdoc />
    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var sweep = SweepLoader.Load(settings.Sweep);
        if (Path.GetFullPath(settings.Out!) == Path.GetFullPath(settings.Sweep) || Path.GetFullPath(settings.Out!) == Path.GetFullPath(sweep.ScenarioFile))
        {
            throw new InputException(settings.Out!, "is the sweep's own file or its base scenario: write the job to another file, such as sweep.slurm");
        }

        // The tasks run in the repository (Slurm: submitted from its root; Kubernetes: the image's copy of it): the
        // sweep's path relative to the root of the repository whose catalogue this reads.
        var root = CatalogSettings.RepositoryFolder(settings.LoadCatalog());
        var relative = Path.GetRelativePath(root, Path.GetFullPath(settings.Sweep));
        var inside = !relative.StartsWith("..", StringComparison.Ordinal) && !Path.IsPathRooted(relative);
        if (settings.Engine == "kubernetes" && !inside)
        {
            throw new InputException(settings.Sweep, $"is outside the repository ({root}), which the image holds at /clustertwin: put the sweep file and its scenario in it");
        }

        var file = (inside ? relative : Path.GetFullPath(settings.Sweep)).Replace('\\', '/');
        var text = settings.Engine == "slurm"
            ? SweepJobs.Slurm(sweep, file, settings.Shards, settings.Threads)
            : SweepJobs.Kubernetes(sweep, file, settings.Shards, settings.Threads, settings.Image);
        CatalogSettings.WriteFile(settings.Out!, "the job file", () => File.WriteAllText(settings.Out!, text));
        var submit = settings.Engine == "slurm" ? $"sbatch {settings.Out}" : $"kubectl apply -f {settings.Out}";
        console.MarkupLine(Markup.Escape($"{sweep.Name}: {sweep.Points:N0} points in {settings.Shards} shards of about {(sweep.Points + settings.Shards - 1) / settings.Shards:N0}; written to {settings.Out}. Submit it with: {submit}; then merge the parts with clustertwin sweep-merge (the file says how)."));
        return 0;
    }
}
