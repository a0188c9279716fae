using System.Collections.Immutable;
using System.Globalization;
using System.Text.RegularExpressions;
using ScottPlot;
using SkiaSharp;

namespace ClusterTwin.Cli.Charts;

/// <summary>
/// Draws a <see cref="BarChart"/> with ScottPlot and writes it as PNG and SVG. Text is set in Inter, embedded in
/// this assembly, so it renders on a machine with no fonts installed, and the same input gives the same SVG bytes.
/// </summary>
internal static partial class ChartWriter
{
    /// <summary>The image width in pixels.</summary>
    public const int Width = 1000;

    /// <summary>The image height in pixels.</summary>
    public const int Height = 600;

    /// <summary>
    /// Okabe and Ito's colour-blind-safe palette, darkest and most distinct first
    /// (its yellow is left out: it is hard to see on white).
    /// </summary>
    private static readonly ImmutableArray<Color> Palette =
    [
        Color.FromHex("#0072B2"), // blue
        Color.FromHex("#E69F00"), // orange
        Color.FromHex("#009E73"), // bluish green
        Color.FromHex("#CC79A7"), // reddish purple
        Color.FromHex("#56B4E9"), // sky blue
        Color.FromHex("#D55E00"), // vermilion
        Color.FromHex("#000000"), // black
    ];

    private static readonly Color Ink = Color.FromHex("#222222");

    /// <summary>The share of a category's slot that its group of bars fills.</summary>
    private const double GroupWidth = 0.8;

    private const float CategoryFontSize = 15;
    private const float CategoryRotation = 30;
    private const float ReferenceFontSize = 14;

    /// <summary>
    /// Writes <paramref name="chart"/> as <c>fileStem.png</c> and <c>fileStem.svg</c> in <paramref name="directory"/>,
    /// creating the directory if needed, and returns the two paths (PNG first).
    /// </summary>
    /// <exception cref="ArgumentException">The chart fails <see cref="BarChart.Validate"/>, or the stem is not a plain file name.</exception>
    public static ImmutableArray<string> Write(BarChart chart, string directory, string fileStem)
    {
        ArgumentNullException.ThrowIfNull(chart);
        ArgumentException.ThrowIfNullOrWhiteSpace(directory);
        ArgumentException.ThrowIfNullOrWhiteSpace(fileStem);
        if (fileStem.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || fileStem.Contains('/', StringComparison.Ordinal) || fileStem.Contains('\\', StringComparison.Ordinal))
        {
            throw new ArgumentException($"The file stem '{fileStem}' must be a plain file name, without a folder; .png and .svg are added to it.", nameof(fileStem));
        }

        chart.Validate();
        Directory.CreateDirectory(directory);
        var png = Path.Combine(directory, fileStem + ".png");
        var svg = Path.Combine(directory, fileStem + ".svg");
        using var plot = Draw(chart);
        plot.SavePng(png, Width, Height);
        File.WriteAllText(svg, NumberClipsInOrder(plot.GetSvgXml(Width, Height)));
        return [png, svg];
    }

    /// <summary>
    /// Skia names each SVG clip path after its clip's generation number, a counter global to the process, so the
    /// same chart drawn twice gets different names; this renames them cl_0, cl_1, … in order of first appearance.
    /// </summary>
    internal static string NumberClipsInOrder(string svg)
    {
        var names = new Dictionary<string, string>(StringComparer.Ordinal);
        return ClipName().Replace(svg, match =>
        {
            if (!names.TryGetValue(match.Value, out var name))
            {
                name = "cl_" + names.Count.ToString(CultureInfo.InvariantCulture);
                names.Add(match.Value, name);
            }

            return name;
        });
    }

    [GeneratedRegex(@"(?<=id=""|url\(#)cl_[0-9A-Za-z]+\b")]
    private static partial Regex ClipName();

    private static Plot Draw(BarChart chart)
    {
        var font = EmbeddedFont.Family;
        var plot = new Plot();
        var scale = ValueScale.For(chart);
        var seriesCount = chart.Series.Length;
        var barWidth = GroupWidth / seriesCount;
        for (var s = 0; s < seriesCount; s++)
        {
            var series = chart.Series[s];
            var color = Palette[s % Palette.Length];
            var offset = (s - ((seriesCount - 1) / 2.0)) * barWidth;
            var positions = new double[chart.Categories.Length];
            var bars = new List<Bar>(positions.Length);
            for (var c = 0; c < positions.Length; c++)
            {
                positions[c] = c + offset;
                bars.Add(new Bar
                {
                    Position = positions[c],
                    Value = scale.Map(series.Values[c]),
                    ValueBase = scale.Base,
                    Size = barWidth * 0.92,
                    FillColor = color,
                    LineWidth = 0,
                });
            }

            var barPlot = plot.Add.Bars(bars);
            barPlot.LegendText = series.Name;
            if (series.HasErrorBars)
            {
                AddErrorBars(plot, chart, series, scale, positions);
            }
        }

        if (chart.ReferenceLine is { } reference)
        {
            var line = plot.Add.HorizontalLine(scale.Map(reference), 2, Ink, LinePattern.Dashed);
            line.EnableAutoscale = true;
            if (!string.IsNullOrEmpty(chart.ReferenceLabel))
            {
                line.Text = chart.ReferenceLabel;
                line.LabelOppositeAxis = true;
                line.LabelFontName = font;
                line.LabelFontSize = ReferenceFontSize;
                line.LabelBold = false;
                line.LabelRotation = 0;
                line.ManualLabelAlignment = Alignment.MiddleLeft;
                line.LabelFontColor = Colors.White;
                line.LabelBackgroundColor = Ink;
                plot.Axes.Right.MinimumSize = EmbeddedFont.Measure(chart.ReferenceLabel, ReferenceFontSize) + 16;
            }
        }

        StyleAxes(plot, chart, scale);
        plot.Font.Set(font);

        // Font.Set pins every label to one typeface; the title drops it to be resolved again in bold.
        plot.Axes.Title.Label.Font = null;
        plot.Axes.Title.Label.Bold = true;
        plot.Axes.Title.Label.FontSize = 22;
        if (seriesCount > 1)
        {
            plot.ShowLegend(Edge.Top);
            plot.Legend.Orientation = Orientation.Horizontal;
            plot.Legend.FontName = font;
            plot.Legend.FontSize = 15;
        }
        else
        {
            plot.HideLegend();
        }

        return plot;
    }

    private static void AddErrorBars(Plot plot, BarChart chart, BarSeries series, ValueScale scale, double[] positions)
    {
        var count = chart.Categories.Length;
        var ys = new double[count];
        var below = new double[count];
        var above = new double[count];
        for (var c = 0; c < count; c++)
        {
            var value = series.Values[c];
            ys[c] = scale.Map(value);
            below[c] = series.Low.IsEmpty ? 0 : ys[c] - scale.Map(series.Low[c]);
            above[c] = series.High.IsEmpty ? 0 : scale.Map(series.High[c]) - ys[c];
        }

        var errors = plot.Add.ErrorBar(positions, ys, above);
        errors.YErrorNegative = below;
        errors.YErrorPositive = above;
        errors.LineColor = Ink;
        errors.LineWidth = 1.5f;
        errors.CapSize = 6;
    }

    private static void StyleAxes(Plot plot, BarChart chart, ValueScale scale)
    {
        plot.Title(chart.Title);
        plot.YLabel(chart.ValueAxisLabel);
        plot.Axes.Left.Label.FontSize = 17;

        var positions = Enumerable.Range(0, chart.Categories.Length).Select(c => (double)c).ToArray();
        plot.Axes.Bottom.SetTicks(positions, [.. chart.Categories]);
        plot.Axes.Bottom.MajorTickStyle.Length = 0;
        plot.Axes.Bottom.TickLabelStyle.FontSize = CategoryFontSize;
        var widest = chart.Categories.Max(label => EmbeddedFont.Measure(label, CategoryFontSize));
        var slot = (Width - 250.0) / chart.Categories.Length;
        if (widest > slot * 0.9)
        {
            // Slanted labels hang down from their ticks; the axis gets room for the longest.
            plot.Axes.Bottom.TickLabelStyle.Rotation = CategoryRotation;
            plot.Axes.Bottom.TickLabelStyle.Alignment = Alignment.MiddleLeft;
            plot.Axes.Bottom.MinimumSize = (float)(widest * Math.Sin(CategoryRotation * Math.PI / 180)) + CategoryFontSize + 12;
        }

        plot.Axes.Left.TickLabelStyle.FontSize = 14;
        plot.Grid.XAxisStyle.MajorLineStyle.Width = 0;
        plot.Axes.SetLimitsX(-0.5, chart.Categories.Length - 0.5);
        if (scale.Logarithmic)
        {
            plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic
            {
                MinorTickGenerator = new ScottPlot.TickGenerators.LogMinorTickGenerator(),
                IntegerTicksOnly = true,
                LabelFormatter = exponent => Math.Pow(10, exponent).ToString("#,0.######", CultureInfo.InvariantCulture),
            };
            plot.Grid.YAxisStyle.MinorLineStyle.Width = 1;
            plot.Grid.YAxisStyle.MinorLineStyle.Color = Colors.Black.WithAlpha(0.05);
        }

        plot.Axes.Margins(bottom: 0, top: 0.08);
    }

    /// <summary>How values map onto the vertical axis: as they are, or as base-10 logarithms; bars stand on <paramref name="Base"/> (a whole decade when logarithmic).</summary>
    private sealed record ValueScale(bool Logarithmic, double Base)
    {
        public static ValueScale For(BarChart chart)
        {
            if (!chart.LogarithmicScale)
            {
                return new ValueScale(false, 0);
            }

            var smallest = chart.Series.SelectMany(series => series.Values.Concat(series.Low))
                .Append(chart.ReferenceLine ?? double.PositiveInfinity).Min();
            // Half a decade of headroom at least, so the smallest bar still shows.
            return new ValueScale(true, Math.Floor(Math.Log10(smallest) - 0.5));
        }

        public double Map(double value) => Logarithmic ? Math.Log10(value) : value;
    }

    /// <summary>
    /// Inter (OFL 1.1), embedded in this assembly, put ahead of ScottPlot's system font lookup under its family name.
    /// </summary>
    private sealed class EmbeddedFont : IFontResolver
    {
        private static readonly Lazy<EmbeddedFont> Registered = new(Register);

        private readonly SKData regular = Load("Inter-Regular.ttf");
        private readonly SKData bold = Load("Inter-Bold.ttf");

        private EmbeddedFont()
        {
        }

        /// <summary>The family name to give ScottPlot; registers the font on first use.</summary>
        public static string Family
        {
            get
            {
                _ = Registered.Value;
                return "Inter";
            }
        }

        public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
            fontName == "Inter" ? SKTypeface.FromData(weight >= FontWeight.SemiBold ? bold : regular) : null;

        public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) =>
            CreateTypeface(fontName, bold ? FontWeight.Bold : FontWeight.Normal, FontSlant.Upright, FontSpacing.Normal);

        /// <summary>The width in pixels of <paramref name="text"/> set in Inter at <paramref name="size"/>.</summary>
        public static float Measure(string text, float size)
        {
            var fontData = Registered.Value.regular;
            using var typeface = SKTypeface.FromData(fontData);
            using var font = new SKFont(typeface, size);
            return font.MeasureText(text);
        }

        private static EmbeddedFont Register()
        {
            var font = new EmbeddedFont();
            lock (Fonts.FontResolvers)
            {
                Fonts.FontResolvers.Insert(0, font);
            }

            return font;
        }

        private static SKData Load(string file)
        {
            var name = "ClusterTwin.Cli.Charts.Fonts." + file;
            using var stream = typeof(EmbeddedFont).Assembly.GetManifestResourceStream(name)
                ?? throw new InvalidOperationException($"The embedded font {name} is missing from the assembly.");
            return SKData.Create(stream);
        }
    }
}
