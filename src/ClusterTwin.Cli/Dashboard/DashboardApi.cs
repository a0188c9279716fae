using ClusterTwin.Catalog;
using ClusterTwin.Reinforcement;
using ClusterTwin.Cli.Commands;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Engines.Mixed;
using ClusterTwin.Parallelism;
using ClusterTwin.Planning;
using ClusterTwin.Sharing;

namespace ClusterTwin.Cli.Dashboard;

/// <summary>
/// What the dashboard's page asks for: the repository's training examples, one example's text, the simulation of a
/// scenario the page sends (an example as it is, or as the user edited it), as <c>simulate --json</c> gives it with
/// the replayed step's passes and the drawn steps for the page to draw, and the search of its layouts, as
/// <c>plan --json</c> gives it.
/// </summary>
public sealed class DashboardApi
{
    /// <summary>The largest scenario text the page may send (a scenario is a few kilobytes).</summary>
    public const int MostScenarioBytes = 1 << 20;

    /// <summary>The most passes the page is sent to draw; a longer step is summarized, and <c>simulate --timeline</c> writes it whole.</summary>
    public const int MostSpansDrawn = 20_000;

    /// <summary>The layouts <see cref="Plan"/> ranks.</summary>
    public const int LayoutsRanked = 10;

    /// <summary>The most requests <see cref="Serve"/> serves: a run's time grows with its requests, and the page waits for it (<c>serve</c> takes any).</summary>
    public const long MostRequestsServed = 50_000;

    /// <summary>The name a scenario sent by the page goes by in error messages.</summary>
    public const string SentScenarioName = "scenario.yaml";

    private readonly HardwareCatalog catalog;
    private readonly string examples;
    private readonly Lazy<IReadOnlyList<DashboardExample>> examplesFound;

    /// <summary>Serves <paramref name="catalog"/>'s repository's examples and simulations on it.</summary>
    public DashboardApi(HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        this.catalog = catalog;
        examples = Path.Combine(CatalogSettings.RepositoryFolder(catalog), "examples");
        examplesFound = new Lazy<IReadOnlyList<DashboardExample>>(ListExamples);
    }

    /// <summary>The training, serving and RL scenarios under <c>examples/</c> (those <c>simulate</c>, <c>serve</c> and <c>rl</c> read), by their path from there, in order.</summary>
    public IReadOnlyList<DashboardExample> Examples => examplesFound.Value;

    /// <summary>The text of the example <paramref name="name"/>; null where it is not one of <see cref="Examples"/>.</summary>
    public string? Example(string name) => Examples.Any(example => example.Path == name) ? File.ReadAllText(Path.Combine(examples, name)) : null;

    /// <summary>Serves the serving scenario <paramref name="text"/> request by request: the document of <c>serve --json</c>.</summary>
    /// <exception cref="InputException">The text is not a serving scenario that can be used: every problem, as <c>serve</c> reports it.</exception>
    public object Serve(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var scenario = ScenarioLoader.LoadServing(file, catalog);
            if (scenario.Workload.Requests > MostRequestsServed)
            {
                throw new InputException([new Diagnostic(SentScenarioName, 0, "requests.count", $"{scenario.Workload.Requests:N0} requests: the dashboard serves at most {MostRequestsServed:N0}, so that the page gets its answer in a minute or so (clustertwin serve FILE serves any number)")]);
            }

            return ServingReport.Document(scenario, scenario.Run());
        });
    }

    /// <summary>Simulates one step of the RL post-training scenario <paramref name="text"/>: its step in the document of <c>rl --json</c>.</summary>
    /// <exception cref="InputException">The text is not an RL scenario that can be used: every problem, as <c>rl</c> reports it.</exception>
    public object Reinforce(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var scenario = ScenarioLoader.LoadReinforcement(file, catalog);
            if (scenario.Settings.Responses > MostRequestsServed)
            {
                throw new InputException([new Diagnostic(SentScenarioName, 0, "rl", $"{scenario.Settings.Responses:N0} responses a step (rl.prompts x rl.samples): the dashboard serves at most {MostRequestsServed:N0}, so that the page gets its answer in a minute or so (clustertwin rl FILE runs any number)")]);
            }

            return ReinforcementReport.Document([ReinforcementSimulator.Run(scenario)]);
        });
    }

    /// <summary>The most jobs of a shared cluster the dashboard runs: a few seconds at most.</summary>
    private const int MostSharedJobs = 100;

    /// <summary>Runs the shared cluster <paramref name="text"/>: its jobs side by side, in the document of <c>share --json</c>.</summary>
    /// <exception cref="InputException">The text is not a shared cluster that can be used: every problem, as <c>share</c> reports it.</exception>
    public object Share(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var shared = ScenarioLoader.LoadShared(file, catalog);
            if (shared.Jobs.Length > MostSharedJobs)
            {
                throw new InputException([new Diagnostic(SentScenarioName, 0, "jobs", $"{shared.Jobs.Length:N0} jobs: the dashboard runs at most {MostSharedJobs:N0}, so that the page gets its answer in seconds (clustertwin share FILE runs up to 1,000)")]);
            }

            return SharedClusterReport.Document([SharedFabric.Run(shared)]);
        });
    }

    /// <summary>
    /// Simulates the scenario <paramref name="text"/>: the document of <c>simulate --json</c> (<c>document</c>), the
    /// replayed step's passes (<c>timeline</c>, null without a replay) and the drawn steps (<c>stragglerSteps</c>); for
    /// a pipeline over two kinds of chip, <c>simulate --json</c>'s document for it (<c>mixed</c>) and the passes.
    /// </summary>
    /// <exception cref="InputException">The text is not a training scenario that can be used: every problem, as <c>simulate</c> reports it, named <see cref="SentScenarioName"/>.</exception>
    public object Simulate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var scenario = ScenarioLoader.Load(file, catalog);
            if (scenario.MixedPipeline is not null)
            {
                // A pipeline over two kinds of chip: simulate --json's own document for it, and the replayed passes.
                var mixed = MixedPipelineEngine.Simulate(scenario);
                var splits = mixed.Valid ? SimulateCommand.Splits(scenario, catalog, mixed) : [];
                return new { mixed = MixedPipelineReport.Json(mixed, splits), timeline = mixed.Timeline is { } replayed ? Timeline(replayed) : null };
            }

            var (result, replay) = SimulateCommand.Run(scenario);
            var shown = SimulateCommand.Shown(replay);
            return new
            {
                document = SimulationJson.Document(scenario, result, eventLevel: shown is null ? null : EventLevelReport.Json(result, shown)),
                timeline = replay?.Timeline is { } timeline ? Timeline(timeline) : null,
                stragglerSteps = replay?.Stragglers?.Steps.Select(step => step.Seconds),
            };
        });
    }

    /// <summary>
    /// Searches the layouts of the scenario <paramref name="text"/> as <c>plan --compare --top 10 --json</c> does where
    /// its plan block names a whole layout (the tensor, pipeline and data degrees) that is valid: every field free, the
    /// best set beside the scenario's own; and as <c>plan --top 10 --json</c> does otherwise: the fields the block names
    /// pinned. The fastest first; the answer has <c>given</c> in the first case only. One thread, so that the page and
    /// another request are answered meanwhile.
    /// </summary>
    /// <exception cref="InputException">The text is not a scenario a search can run on, or the search refuses it.</exception>
    public object Plan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var planning = ScenarioLoader.LoadForPlanning(file, catalog);
            var whole = planning.Pins is { TensorParallelism: not null, PipelineParallelism: not null, DataParallelism: not null };
            var given = whole && planning.Given is { } plan && AnalyticalEngine.Simulate(planning.Scenario with { Plan = plan }) is { Valid: true } simulated ? simulated : null;
            var pins = given is null ? planning.Pins : PlanPins.SettingsOf(planning.Given!);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var search = PlanSearch.Run(planning.Scenario, pins, LayoutsRanked, threads: 1);
            if (search.Refusal is { } refusal)
            {
                throw new InputException(SentScenarioName, refusal);
            }

            return PlanJson.Document(planning.Scenario, search, clock.Elapsed, given);
        });
    }

    /// <summary>
    /// Runs <paramref name="read"/> on <paramref name="text"/> written to a file of its own, which the loaders read, and
    /// names that file <see cref="SentScenarioName"/> in any problem found.
    /// </summary>
    private static object WithScenarioFile(string text, Func<string, object> read)
    {
        var folder = Directory.CreateTempSubdirectory("clustertwin-dashboard-");
        var file = Path.Combine(folder.FullName, SentScenarioName);
        try
        {
            File.WriteAllText(file, text);
            return read(file);
        }
        catch (InputException error)
        {
            // The file is the page's text: named as the page knows it, in the messages too.
            throw new InputException(error.Diagnostics.Select(problem => problem with
            {
                File = problem.File == file ? SentScenarioName : problem.File,
                Message = problem.Message.Replace(file, SentScenarioName, StringComparison.Ordinal),
            }));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The passes as rows of [rank, kind (0 forward, 1 backward or input gradient, 2 weight gradient), micro-batch, chunk
    /// (under DualPipe the direction), start, end] in seconds, at most <see cref="MostSpansDrawn"/>.
    /// </summary>
    private static object Timeline(StepTimeline timeline) => new
    {
        ranks = timeline.Stages.Pipeline,
        chunks = timeline.Stages.VirtualStages,
        schedule = PipelineScheduleKeys.Key(timeline.Stages.Schedule),
        microBatches = timeline.Stages.MicroBatches,
        pipelineSeconds = timeline.Pipeline.Seconds,
        afterPipelineSeconds = timeline.Stages.AfterPipeline.Seconds,
        powerStretch = timeline.Stages.PowerStretch,
        passes = timeline.Spans.Length,
        critical = timeline.Spans.Length > MostSpansDrawn ? null : timeline.Critical.Spans.AsEnumerable(),
        spans = timeline.Spans.Length > MostSpansDrawn ? null : timeline.Spans.Select(span => new[] { span.Rank, span.Pass.Kind == PassKind.WeightGradient ? 2 : span.Pass.Backward ? 1 : 0, span.Pass.MicroBatch, span.Pass.Chunk, span.Start.Seconds, span.End.Seconds }),
    };

    private List<DashboardExample> ListExamples()
    {
        if (!Directory.Exists(examples))
        {
            return [];
        }

        // An example is listed where simulate, serve, rl or share reads it: a training, serving or RL scenario or a shared cluster that loads.
        var found = new List<DashboardExample>();
        foreach (var file in Directory.GetFiles(examples, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            var path = Path.GetRelativePath(examples, file).Replace('\\', '/');
            if (Loads(() => ScenarioLoader.Load(file, catalog)))
            {
                found.Add(new DashboardExample(path, DashboardExample.Training));
            }
            else if (Loads(() => ScenarioLoader.LoadServing(file, catalog)))
            {
                found.Add(new DashboardExample(path, DashboardExample.Serving));
            }
            else if (Loads(() => ScenarioLoader.LoadReinforcement(file, catalog)))
            {
                found.Add(new DashboardExample(path, DashboardExample.Reinforcement));
            }
            else if (Loads(() => ScenarioLoader.LoadShared(file, catalog)))
            {
                found.Add(new DashboardExample(path, DashboardExample.Shared));
            }
        }

        return found;
    }

    /// <summary>Whether <paramref name="load"/> reads its file without a problem (a search is another command's file).</summary>
    private static bool Loads(Action load)
    {
        try
        {
            load();
            return true;
        }
        catch (InputException)
        {
            return false;
        }
    }
}

/// <summary>An example the dashboard lists: its path under <c>examples/</c>, and which command reads it.</summary>
/// <param name="Path">The path from <c>examples/</c>, with forward slashes.</param>
/// <param name="Kind"><see cref="Training"/> (<c>simulate</c>, <c>plan</c>), <see cref="Serving"/> (<c>serve</c>), <see cref="Reinforcement"/> (<c>rl</c>) or <see cref="Shared"/> (<c>share</c>).</param>
public sealed record DashboardExample(string Path, string Kind)
{
    /// <summary>A training scenario.</summary>
    public const string Training = "training";

    /// <summary>A serving scenario.</summary>
    public const string Serving = "serving";

    /// <summary>An RL post-training scenario.</summary>
    public const string Reinforcement = "rl";

    /// <summary>A shared cluster.</summary>
    public const string Shared = "share";
}
