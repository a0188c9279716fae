using System.Collections.Immutable;
using System.Globalization;

namespace ClusterTwin.Cli.Charts;

/// <summary>
/// One series of a grouped bar chart: a value per category, with optional error-bar ends.
/// </summary>
/// <param name="Name">The series' name, shown in the legend.</param>
/// <param name="Values">One value per category of the chart, in the chart's category order.</param>
public sealed record BarSeries(string Name, ImmutableArray<double> Values)
{
    private readonly ImmutableArray<double> values = RequireFinite(Values, nameof(Values), Name);
    private readonly ImmutableArray<double> low = [];
    private readonly ImmutableArray<double> high = [];

    /// <summary>The series' name, shown in the legend.</summary>
    public string Name { get; init; } = Name ?? throw new ArgumentNullException(nameof(Name));

    /// <summary>One value per category of the chart, in the chart's category order; finite.</summary>
    public ImmutableArray<double> Values
    {
        get => values;
        init => values = RequireFinite(value, nameof(Values), Name);
    }

    /// <summary>Lower error-bar ends, one per value, each at most its value; empty for no lower error bars.</summary>
    public ImmutableArray<double> Low
    {
        get => low;
        init => low = value.IsDefault ? [] : RequireFinite(value, nameof(Low), Name);
    }

    /// <summary>Upper error-bar ends, one per value, each at least its value; empty for no upper error bars.</summary>
    public ImmutableArray<double> High
    {
        get => high;
        init => high = value.IsDefault ? [] : RequireFinite(value, nameof(High), Name);
    }

    /// <summary>Whether the series has error bars of either side.</summary>
    public bool HasErrorBars => !Low.IsEmpty || !High.IsEmpty;

    /// <summary>
    /// Checks the series against a chart of <paramref name="categoryCount"/> categories: one value per category,
    /// error-bar ends (where present) one per value with low ≤ value ≤ high.
    /// </summary>
    /// <exception cref="ArgumentException">The series does not fit the chart.</exception>
    public void Validate(int categoryCount)
    {
        if (Values.Length != categoryCount)
        {
            throw new ArgumentException(
                $"Series '{Name}' has {Values.Length} values but the chart has {categoryCount} categories; give one value per category.");
        }

        CheckEnds(Low, nameof(Low), (end, value) => end <= value, "above");
        CheckEnds(High, nameof(High), (end, value) => end >= value, "below");
    }

    private void CheckEnds(ImmutableArray<double> ends, string name, Func<double, double, bool> onCorrectSide, string wrongSide)
    {
        if (ends.IsEmpty)
        {
            return;
        }

        if (ends.Length != Values.Length)
        {
            throw new ArgumentException(
                $"Series '{Name}' has {ends.Length} {name} error-bar ends but {Values.Length} values; give one per value or none.", name);
        }

        for (var i = 0; i < ends.Length; i++)
        {
            if (!onCorrectSide(ends[i], Values[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Series '{Name}': {name} error-bar end {ends[i]} at index {i} is {wrongSide} its value {Values[i]}."), name);
            }
        }
    }

    private static ImmutableArray<double> RequireFinite(ImmutableArray<double> numbers, string name, string? series)
    {
        if (numbers.IsDefault)
        {
            throw new ArgumentException($"Series '{series}': {name} is an uninitialised array.", name);
        }

        for (var i = 0; i < numbers.Length; i++)
        {
            if (!double.IsFinite(numbers[i]))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Series '{series}': {name}[{i}] is {numbers[i]}; chart values must be finite numbers."), name);
            }
        }

        return numbers;
    }
}

/// <summary>
/// A grouped bar chart: one group of bars per category, one bar per series in each group,
/// with optional error bars and an optional horizontal reference line.
/// </summary>
/// <param name="Title">The chart's title.</param>
/// <param name="ValueAxisLabel">The label of the value (vertical) axis, with its unit.</param>
/// <param name="Categories">The category labels along the horizontal axis; at least one.</param>
/// <param name="Series">The series; at least one, each with one value per category.</param>
public sealed record BarChart(string Title, string ValueAxisLabel, ImmutableArray<string> Categories, ImmutableArray<BarSeries> Series)
{
    private readonly double? referenceLine;

    /// <summary>The chart's title.</summary>
    public string Title { get; init; } = Title ?? throw new ArgumentNullException(nameof(Title));

    /// <summary>The label of the value (vertical) axis, with its unit.</summary>
    public string ValueAxisLabel { get; init; } = ValueAxisLabel ?? throw new ArgumentNullException(nameof(ValueAxisLabel));

    /// <summary>The category labels along the horizontal axis; at least one.</summary>
    public ImmutableArray<string> Categories { get; init; } = Categories;

    /// <summary>The series; at least one, each with one value per category.</summary>
    public ImmutableArray<BarSeries> Series { get; init; } = CheckShape(Title, Categories, Series);

    /// <summary>Where to draw a horizontal reference line (a ratio of 1.0, or a published claim); none when null.</summary>
    public double? ReferenceLine
    {
        get => referenceLine;
        init
        {
            if (value is { } line && !double.IsFinite(line))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Chart '{Title}': the reference line is {line}; it must be a finite number."), nameof(ReferenceLine));
            }

            referenceLine = value;
        }
    }

    /// <summary>The reference line's label; none when null.</summary>
    public string? ReferenceLabel { get; init; }

    /// <summary>Whether the value axis is logarithmic (base 10); every value, error-bar end and the reference line must then be positive.</summary>
    public bool LogarithmicScale { get; init; }

    /// <summary>
    /// Checks the whole chart: at least one category and one series, every series with one value per category,
    /// error-bar ends one per value on the right side of it, and positive numbers on a logarithmic scale.
    /// Values are also checked as they are set; this catches what a <c>with</c> expression could combine.
    /// </summary>
    /// <exception cref="ArgumentException">The chart cannot be drawn.</exception>
    public void Validate()
    {
        CheckShape(Title, Categories, Series);

        if (LogarithmicScale)
        {
            var smallest = Series.SelectMany(series => series.Values.Concat(series.Low).Concat(series.High))
                .Append(ReferenceLine ?? double.PositiveInfinity).Min();
            if (smallest <= 0)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Chart '{Title}' has a logarithmic scale but a value, error-bar end or reference line of {smallest}; all must be positive."),
                    nameof(LogarithmicScale));
            }
        }
    }

    private static ImmutableArray<BarSeries> CheckShape(string title, ImmutableArray<string> categories, ImmutableArray<BarSeries> series)
    {
        if (categories.IsDefaultOrEmpty)
        {
            throw new ArgumentException($"Chart '{title}' has no categories; give at least one.", nameof(categories));
        }

        if (categories.Any(category => category is null))
        {
            throw new ArgumentException($"Chart '{title}' has a null category label.", nameof(categories));
        }

        if (series.IsDefaultOrEmpty)
        {
            throw new ArgumentException($"Chart '{title}' has no series; give at least one.", nameof(series));
        }

        foreach (var one in series)
        {
            if (one is null)
            {
                throw new ArgumentException($"Chart '{title}' has a null series.", nameof(series));
            }

            one.Validate(categories.Length);
        }

        return series;
    }
}
