using ClusterTwin.Catalog;
using ClusterTwin.Cli.Commands;
using ClusterTwin.Cli.Reports;
using ClusterTwin.Engines.EventLevel;

namespace ClusterTwin.Cli.Dashboard;

/// <summary>
/// What the dashboard's page asks for: the repository's training examples, one example's text, and the simulation of
/// a scenario the page sends (an example as it is, or as the user edited it), as <c>simulate --json</c> gives it with
/// the replayed step's passes and the drawn steps for the page to draw.
/// </summary>
public sealed class DashboardApi
{
    /// <summary>The largest scenario text the page may send (a scenario is a few kilobytes).</summary>
    public const int MostScenarioBytes = 1 << 20;

    /// <summary>The most passes the page is sent to draw; a longer step is summarized, and <c>simulate --timeline</c> writes it whole.</summary>
    public const int MostSpansDrawn = 20_000;

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
        var folder = Directory.CreateTempSubdirectory("clustertwin-dashboard-");
        try
        {
            var file = Path.Combine(folder.FullName, SentScenarioName);
            File.WriteAllText(file, text);
            Scenarios.Scenario scenario;
            try
            {
                scenario = ScenarioLoader.Load(file, catalog);
            }
            catch (InputException error)
            {
                throw new InputException(error.Diagnostics.Select(problem => problem with { File = problem.File == file ? SentScenarioName : problem.File }));
            }

            var (result, replay) = SimulateCommand.Run(scenario);
            var shown = SimulateCommand.Shown(replay);
            return new
            {
                document = SimulationJson.Document(scenario, result, eventLevel: shown is null ? null : EventLevelReport.Json(result, shown)),
                timeline = replay?.Timeline is { } timeline ? Timeline(timeline) : null,
                stragglerSteps = replay?.Stragglers?.Steps.Select(step => step.Seconds),
            };
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
