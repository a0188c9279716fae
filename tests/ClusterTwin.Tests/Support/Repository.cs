using ClusterTwin.Catalog;
using ClusterTwin.Scenarios;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Support;

/// <summary>Paths into the repository and the catalogue, loaded once for the whole test run.</summary>
internal static class Repository
{
    private static readonly Lazy<string> RootPath = new(() =>
    {
        for (var folder = new DirectoryInfo(AppContext.BaseDirectory); folder is not null; folder = folder.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(folder.FullName, "ClusterTwin.slnx")))
            {
                return folder.FullName;
            }
        }

        throw new InvalidOperationException("repository root not found above " + AppContext.BaseDirectory);
    });

    private static readonly Lazy<HardwareCatalog> LoadedCatalog = new(() => CatalogLoader.Load(System.IO.Path.Combine(Root, "catalog")));

    private static readonly Lazy<IReadOnlyList<ValidationCase>> LoadedTrainingCases =
        new(() => ValidationCaseLoader.LoadAll(System.IO.Path.Combine(Root, "validation", "cases"), Catalog).Training);

    private static readonly Lazy<IReadOnlyList<ValidationCase>> LoadedCalibrationCases = new(() =>
        [.. ClusterTwin.Cli.Commands.CatalogSettings.CalibrationCases(Catalog).Training]);

    public static string Root => RootPath.Value;

    public static HardwareCatalog Catalog => LoadedCatalog.Value;

    /// <summary>The validation set's training cases, loaded once.</summary>
    public static IReadOnlyList<ValidationCase> TrainingCases => LoadedTrainingCases.Value;

    /// <summary>The training cases training frameworks are fitted on, as <c>calibrate --framework</c> reads them: the published and every supplementary folder's.</summary>
    public static IReadOnlyList<ValidationCase> CalibrationCases => LoadedCalibrationCases.Value;

    public static string Path(params string[] parts) => System.IO.Path.Combine([Root, .. parts]);

    public static Scenario Example(string name) => ScenarioLoader.Load(Path("examples", name + ".yaml"), Catalog);
}
