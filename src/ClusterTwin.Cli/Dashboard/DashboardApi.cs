using ClusterTwin.Catalog;
using ClusterTwin.Cli.Commands;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines.Analytical;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Planning;

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

    /// <summary>The name a scenario sent by the page goes by in error messages.</summary>
    public const string SentScenarioName = "scenario.yaml";

    private readonly HardwareCatalog catalog;
    private readonly string examples;
    private readonly Lazy<IReadOnlyList<string>> trainingExamples;

    /// <summary>Serves <paramref name="catalog"/>'s repository's examples and simulations on it.</summary>
    public DashboardApi(HardwareCatalog catalog)
    {
        ArgumentNullException.ThrowIfNull(catalog);
        this.catalog = catalog;
        examples = Path.Combine(CatalogSettings.RepositoryFolder(catalog), "examples");
        trainingExamples = new Lazy<IReadOnlyList<string>>(ListTrainingExamples);
    }

    /// <summary>The training scenarios under <c>examples/</c> (those <c>simulate</c> reads), by their path from there, in order.</summary>
    public IReadOnlyList<string> Examples => trainingExamples.Value;

    /// <summary>The text of the example <paramref name="name"/>; null where it is not one of <see cref="Examples"/>.</summary>
    public string? Example(string name) => Examples.Contains(name, StringComparer.Ordinal) ? File.ReadAllText(Path.Combine(examples, name)) : null;

    /// <summary>
    /// Simulates the scenario <paramref name="text"/>: the document of <c>simulate --json</c> (<c>document</c>), the
    /// replayed step's passes (<c>timeline</c>, null without a replay) and the drawn steps (<c>stragglerSteps</c>).
    /// </summary>
    /// <exception cref="InputException">The text is not a training scenario that can be used: every problem, as <c>simulate</c> reports it, named <see cref="SentScenarioName"/>.</exception>
    public object Simulate(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var scenario = ScenarioLoader.Load(file, catalog);
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
    /// its plan block is a valid layout (every field free, the best set beside the scenario's own), and as
    /// <c>plan --top 10 --json</c> does otherwise (the fields the block names pinned): the fastest first.
    /// </summary>
    /// <exception cref="InputException">The text is not a scenario a search can run on, or the search refuses it.</exception>
    public object Plan(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return WithScenarioFile(text, file =>
        {
            var planning = ScenarioLoader.LoadForPlanning(file, catalog);
            var given = planning.Given is { } plan && AnalyticalEngine.Simulate(planning.Scenario with { Plan = plan }) is { Valid: true } simulated ? simulated : null;
            var pins = given is null ? planning.Pins : PlanPins.SettingsOf(planning.Given!);
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var search = PlanSearch.Run(planning.Scenario, pins, LayoutsRanked);
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
            throw new InputException(error.Diagnostics.Select(problem => problem with { File = problem.File == file ? SentScenarioName : problem.File }));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    /// <summary>The passes as rows of [rank, backward (0 or 1), micro-batch, chunk, start, end] in seconds, at most <see cref="MostSpansDrawn"/>.</summary>
    private static object Timeline(StepTimeline timeline) => new
    {
        ranks = timeline.Stages.Pipeline,
        chunks = timeline.Stages.VirtualStages,
        microBatches = timeline.Stages.MicroBatches,
        pipelineSeconds = timeline.Pipeline.Seconds,
        afterPipelineSeconds = timeline.Stages.AfterPipeline.Seconds,
        powerStretch = timeline.Stages.PowerStretch,
        passes = timeline.Spans.Length,
        spans = timeline.Spans.Length > MostSpansDrawn ? null : timeline.Spans.Select(span => new[] { span.Rank, span.Pass.Backward ? 1 : 0, span.Pass.MicroBatch, span.Pass.Chunk, span.Start.Seconds, span.End.Seconds }),
    };

    private List<string> ListTrainingExamples()
    {
        if (!Directory.Exists(examples))
        {
            return [];
        }

        // An example is listed where simulate reads it: a training scenario that loads.
        var found = new List<string>();
        foreach (var file in Directory.GetFiles(examples, "*.yaml", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
        {
            try
            {
                _ = ScenarioLoader.Load(file, catalog);
                found.Add(Path.GetRelativePath(examples, file).Replace('\\', '/'));
            }
            catch (InputException)
            {
                // A serving scenario, a search or a plan's pins: another command's file.
            }
        }

        return found;
    }
}
