using System.Collections.Immutable;
using ClusterTwin.Planning;
using ClusterTwin.Validation;

namespace ClusterTwin.Tests.Support;

/// <summary>
/// The planner against every training case's published layout, searched once for the whole test run: the layout
/// tests and the page that reports them share it (each search is the expensive part).
/// </summary>
internal static class PublishedLayouts
{
    private static readonly Lazy<ImmutableArray<PublishedLayoutComparison>> Comparisons =
        new(() => PublishedLayoutComparison.Of(ValidationCaseLoader.LoadAll(Repository.Path("validation", "cases"), Repository.Catalog).Training));

    /// <summary>Every training case's comparison, in the order <c>compare-layouts</c> reports them.</summary>
    public static ImmutableArray<PublishedLayoutComparison> All => Comparisons.Value;
}
