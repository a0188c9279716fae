using ClusterTwin.Catalog;
using ClusterTwin.Cli.Commands;
using Spectre.Console;
using Spectre.Console.Cli;

namespace ClusterTwin.Cli;

/// <summary>The command tree, and the boundary where input errors become messages and exit codes.</summary>
public static class CommandLine
{
    /// <summary>Exit code for input that cannot be used (a bad file, an unknown id, a value without a unit).</summary>
    public const int InputError = 2;

    /// <summary>Runs the command line against <paramref name="console"/> and returns the exit code.</summary>
    public static int Run(string[] args, IAnsiConsole console, TextWriter? errors = null)
    {
        ArgumentNullException.ThrowIfNull(args);
        if (args.Contains("-"))
        {
            // Spectre.Console reads a lone dash as an option without a name; ClusterTwin reads files, not standard input.
            (errors ?? Console.Error).WriteLine("error: '-': ClusterTwin reads scenario and case files, not standard input (give a file name, such as examples/gpt3-175b-h100-1024.yaml)");
            return InputError;
        }

        var app = new CommandApp();
        app.Configure(config =>
        {
            config.SetApplicationName("clustertwin");
            // An unknown option is an error, not ignored: a mistyped --dry-run must not let calibrate write the catalogue.
            config.UseStrictParsing();
            config.ConfigureConsole(console);
            config.AddCommand<SimulateCommand>("simulate")
                .WithDescription("Predict one training step of a scenario: time, breakdown, memory, throughput.")
                .WithExample("simulate", "examples/llama3-405b-trainium3-1m.yaml");
            config.AddCommand<PlanCommand>("plan")
                .WithDescription("Search every parallel layout of a scenario's job on its cluster and rank the fastest.")
                .WithExample("plan", "examples/plan-gpt3-175b-h100-1024.yaml");
            config.AddCommand<TrainSearchCommand>("train-search")
                .WithDescription("Find the cluster (system and size) that trains a job on its tokens within a deadline at the least cost or with the fewest chips, each size at its best layout.")
                .WithExample("train-search", "examples/train-search-llama3-70b.yaml");
            config.AddCommand<CompareCommand>("compare")
                .WithDescription("Simulate several scenarios side by side (with --search, each at its best layout).")
                .WithExample("compare", "--search", "examples/compare-moe/qwen3-235b-trn2-ultraserver.yaml", "examples/compare-moe/qwen3-235b-trn3-ultraserver.yaml");
            config.AddCommand<CompareLayoutsCommand>("compare-layouts")
                .WithDescription("Search the best layout for every validation case and compare it with the published one.");
            config.AddCommand<ServeCommand>("serve")
                .WithDescription("Simulate serving a model, request by request: latency percentiles, throughput, goodput, energy and cost.")
                .WithExample("serve", "examples/serve-llama3-70b-h100.yaml");
            config.AddCommand<ServeSearchCommand>("serve-search")
                .WithDescription("Find the cheapest deployment (system, replicas, tensor degree, precision, batch limit) that serves a workload within its latency objectives.")
                .WithExample("serve-search", "examples/serve-search-llama3-70b.yaml");
            config.AddCommand<RlCommand>("rl")
                .WithDescription("Simulate steps of RL post-training (GRPO, PPO): generation, scoring, training and the weight update, colocated or on separate pools, on- or off-policy.")
                .WithExample("rl", "examples/rl/nemo-rl-v0.4/llama3-8b-on-policy.yaml");
            config.AddCommand<ShareCommand>("share")
                .WithDescription("Simulate several training jobs on one cluster: each alone, where it is placed, and beside the others on the scale-out network they share.")
                .WithExample("share", "examples/shared/h100-spine-3to1-packed.yaml");
            config.AddCommand<ClaimsCommand>("claims")
                .WithDescription("Check vendor claims against the catalogue's specifications and against workloads run on each system.")
                .WithExample("claims", "--plot", "docs/claims");
            config.AddCommand<ValidateCommand>("validate")
                .WithDescription("Compare predictions with published measured runs (validation/cases).");
            config.AddCommand<CalibrateCommand>("calibrate")
                .WithDescription("Fit a chip family's efficiency levels to the validation cases, holding sources out; or, with --framework, a training framework's expert launch times and slowdown without recompute.");
            config.AddCommand<CalibrateServingCommand>("calibrate-serving")
                .WithDescription("Fit serving frameworks' layer overheads to the serving validation cases.");
            config.AddCommand<SweepCommand>("sweep")
                .WithDescription("Run every combination of the fields a sweep varies over a base scenario (or one shard of them), each simulated or at its best layout.")
                .WithExample("sweep", "examples/sweeps/llama3-70b-trainium-sizes.yaml");
            config.AddCommand<SweepLaunchCommand>("sweep-launch")
                .WithDescription("Write the job that runs a sweep's shards on Slurm (an array job) or Kubernetes (an Indexed Job).")
                .WithExample("sweep-launch", "examples/sweeps/llama3-70b-trainium-sizes.yaml", "--engine", "slurm", "--shards", "16", "--out", "sweep.slurm");
            config.AddCommand<SweepMergeCommand>("sweep-merge")
                .WithDescription("Join the files of a sweep's shards into one, the same as one run of the whole sweep writes, and as CSV.")
                .WithExample("sweep-merge", "sweep-parts/llama3-70b-trainium-sizes-0.jsonl", "sweep-parts/llama3-70b-trainium-sizes-1.jsonl", "--out", "sweep.jsonl");
            config.AddCommand<DashboardCommand>("dashboard")
                .WithDescription("Serve the local web dashboard: pick or write a scenario, see its step, memory, energy, run, replayed timeline and stragglers.")
                .WithExample("dashboard", "--port", "5080");
            config.AddBranch("catalog", catalog =>
            {
                catalog.SetDescription("List and show the chips, systems, fabrics, models and training and serving frameworks the catalogue holds.");
                catalog.AddCommand<CatalogListCommand>("list").WithDescription("List every entry, by kind.");
                catalog.AddCommand<CatalogShowCommand>("show").WithDescription("Show one entry with the source of every figure.");
            });
            config.SetExceptionHandler((exception, _) => Report(errors ?? Console.Error, exception));
        });
        return app.Run(args);
    }

    /// <summary>
    /// The message with control and format characters shown as escapes: an error quotes what it was given (an id, a
    /// file's text), and an escape sequence or a bidirectional override in it would otherwise reach the terminal.
    /// </summary>
    private static string Printable(string message) =>
        message.Any(TextSafety.IsHidden) ? string.Concat(message.Select(character => TextSafety.IsHidden(character) ? $"\\u{(int)character:X4}" : character.ToString())) : message;

    private static int Report(TextWriter errors, Exception exception)
    {
        switch (exception)
        {
            case InputException input:
                foreach (var diagnostic in input.Diagnostics)
                {
                    errors.WriteLine($"error: {Printable(diagnostic.ToString())}");
                }

                return InputError;
            case CommandAppException command:
                errors.WriteLine($"error: {Printable(command.Message)}");
                return InputError;
            case InvalidDataException data:
                // A data file read as the run goes (a serving trace): its message names the file and the line.
                errors.WriteLine($"error: {Printable(data.Message)}");
                return InputError;
            case Reports.NonFiniteResultException result:
                errors.WriteLine($"error: {Printable(result.Message)}");
                return InputError;
            case AggregateException { InnerExceptions.Count: > 0 } aggregate:
                // Raised inside parallel work (the search's candidates, validation's cases): report the first cause.
                return Report(errors, aggregate.InnerExceptions[0]);
            default:
                errors.WriteLine($"internal error: {exception.GetType().Name}: {Printable(exception.Message)}");
                errors.WriteLine("Please report this with the input that caused it.");
                return 70;
        }
    }
}
