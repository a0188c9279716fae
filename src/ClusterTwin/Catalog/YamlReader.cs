using System.Collections.Immutable;
using System.Globalization;
using ClusterTwin.Hardware;
using ClusterTwin.Units;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace ClusterTwin.Catalog;

/// <summary>
/// Reads fields out of one YAML file, gathering every problem as a <see cref="Diagnostic"/> instead of stopping at
/// the first, so that a user fixes a file in one pass.
/// </summary>
internal sealed class YamlReader
{
    private readonly List<Diagnostic> diagnostics;

    private YamlReader(string file, YamlMappingNode? root, List<Diagnostic> diagnostics)
    {
        File = file;
        Root = root;
        this.diagnostics = diagnostics;
    }

    public string File { get; }

    public YamlMappingNode? Root { get; }

    public IReadOnlyList<Diagnostic> Diagnostics => diagnostics;

    /// <summary>Opens a file whose top level must be a mapping.</summary>
    public static YamlReader Open(string path, string displayName)
    {
        var diagnostics = new List<Diagnostic>();
        try
        {
            if (ReadUtf8(path, displayName, diagnostics) is not { } text)
            {
                return new YamlReader(displayName, null, diagnostics);
            }

            return Parse(text, displayName, diagnostics);
        }
        catch (Exception exception) when (exception is IOException or UnauthorizedAccessException)
        {
            diagnostics.Add(new Diagnostic(displayName, 0, string.Empty, $"cannot be read: {exception.Message}"));
            return new YamlReader(displayName, null, diagnostics);
        }
    }

    /// <summary>Reads <paramref name="text"/>, already read from <paramref name="displayName"/>, whose top level must be a mapping.</summary>
    public static YamlReader Parse(string text, string displayName) => Parse(text, displayName, []);

    private static YamlReader Parse(string text, string displayName, List<Diagnostic> diagnostics)
    {
        YamlMappingNode? root = null;
        try
        {
            var stream = new YamlStream();
            stream.Load(new YamlNesting(new Parser(new StringReader(text))));
            if (stream.Documents.Count == 0 || stream.Documents[0].RootNode is not YamlMappingNode mapping)
            {
                diagnostics.Add(new Diagnostic(displayName, 1, string.Empty, "expected a YAML mapping of fields at the top level"));
            }
            else if (stream.Documents.Skip(1).Any(document => document.RootNode is not YamlScalarNode { Value: null or "" }))
            {
                diagnostics.Add(new Diagnostic(displayName, (int)stream.Documents[1].RootNode.Start.Line, string.Empty,
                    $"holds {stream.Documents.Count} YAML documents (separated by ---), where one is read: put each in a file of its own"));
            }
            else
            {
                root = mapping;
            }
        }
        catch (YamlNesting.TooDeepException exception)
        {
            diagnostics.Add(new Diagnostic(displayName, (int)exception.Start.Line, string.Empty, $"not read: {exception.Message} (a ClusterTwin file needs a few)"));
        }
        catch (YamlException exception)
        {
            diagnostics.Add(new Diagnostic(displayName, (int)exception.Start.Line, string.Empty, $"not valid YAML: {exception.InnerException?.Message ?? exception.Message}"));
        }
        catch (InvalidOperationException)
        {
            // YamlDotNet's parser throws this, not a YamlException, on some unterminated flow collections ("[a" at the end of the file).
            diagnostics.Add(new Diagnostic(displayName, 0, string.Empty, "not valid YAML: the file ends inside a bracketed list or braced mapping (look for an unclosed [ or {)"));
        }

        return new YamlReader(displayName, root, diagnostics);
    }

    // The file's text, strictly UTF-8; null, with the diagnostic, where not.
    internal static string? ReadUtf8(string path, string displayName, List<Diagnostic> diagnostics)
    {
        var bytes = BoundedFile.ReadAllBytes(path);
        string text;
        try
        {
            text = new System.Text.UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException exception)
        {
            var line = 1 + bytes.Take(Math.Max(0, exception.Index)).Count(value => value == (byte)'\n');
            var bad = exception.BytesUnknown is { Length: > 0 } unknown ? $" (byte 0x{unknown[0]:X2})" : string.Empty;
            diagnostics.Add(new Diagnostic(displayName, line, string.Empty, $"not valid UTF-8{bad}: save the file as UTF-8"));
            return null;
        }

        return text.Length > 0 && text[0] == '\uFEFF' ? text[1..] : text;
    }

    public void Error(YamlNode? node, string field, string message) =>
        diagnostics.Add(new Diagnostic(File, node is null ? 0 : (int)node.Start.Line, field, message));

    /// <summary>A reader of the same file whose problems are dropped: for a block read a second time, whose problems the first reading reported.</summary>
    internal YamlReader Shadow() => new(File, Root, []);

    public static string Join(string parent, string key) => parent.Length == 0 ? key : $"{parent}.{key}";

    /// <summary>Reports keys the schema does not know, which are usually typos.</summary>
    public void CheckKeys(YamlMappingNode map, string path, params string[] allowed)
    {
        foreach (var key in map.Children.Keys)
        {
            var name = Scalar(key);
            if (name is null)
            {
                Error(key, path, $"a field's name must be a word, not a {(key is YamlSequenceNode ? "list" : "mapping")} (expected one of: {string.Join(", ", allowed)})");
            }
            else if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                // "{value: 989,5 TFLOPS}" reads as a value of 989 and a field "5 TFLOPS": a decimal comma.
                var comma = name.Length > 0 && char.IsAsciiDigit(name[0]) ? "; a number's decimals take a point, not a comma (989.5 TFLOPS): in braces a comma separates fields" : string.Empty;
                Error(key, Join(path, name), $"unknown field (expected one of: {string.Join(", ", allowed)}){comma}");
            }
        }
    }

    public static YamlNode? Child(YamlMappingNode? map, string key) =>
        map is not null && map.Children.TryGetValue(new YamlScalarNode(key), out var node) ? node : null;

    public YamlMappingNode? Mapping(YamlMappingNode? map, string key, string path, bool required)
    {
        var node = Child(map, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, Join(path, key), "missing (expected a mapping of fields)");
            }

            return null;
        }

        if (node is YamlMappingNode mapping)
        {
            return mapping;
        }

        Error(node, Join(path, key), "expected a mapping of fields");
        return null;
    }

    /// <summary>
    /// The text of a field; one holding a character a terminal would act on rather than show (an escape, a carriage
    /// return, a NUL, a bidirectional override: <see cref="TextSafety.IsHidden"/>), which a report would pass on, is an error.
    /// </summary>
    public string? String(YamlMappingNode? map, string key, string path, bool required = true)
    {
        var text = ScalarText(map, key, path, required, "text");
        if (text is not null && text.Any(TextSafety.IsHidden))
        {
            var found = text.First(TextSafety.IsHidden);
            Error(Child(map, key), Join(path, key), string.Create(CultureInfo.InvariantCulture, $"holds the character U+{(int)found:X4}, which a terminal would act on rather than show (expected printable text)"));
            return null;
        }

        return text;
    }

    /// <summary>
    /// The text of a field that must be a single value, reported as <paramref name="expected"/> ("a whole number from
    /// 1 to 64") where it is missing, a list or a mapping.
    /// </summary>
    private string? ScalarText(YamlMappingNode? map, string key, string path, bool required, string expected)
    {
        var node = Child(map, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, Join(path, key), $"missing (expected {expected})");
            }

            return null;
        }

        var text = Scalar(node);
        if (text is null || (required && text.Trim().Length == 0))
        {
            var shape = node switch
            {
                YamlSequenceNode => ", not a list",
                YamlMappingNode => ", not a mapping",
                _ when text is not null => ", not an empty value",
                _ => string.Empty,
            };
            Error(node, Join(path, key), $"expected {expected}{shape}");
            return null;
        }

        return text;
    }

    public int? Integer(YamlMappingNode? map, string key, string path, int minimum, int maximum, bool required = true)
    {
        var text = ScalarText(map, key, path, required, $"a whole number from {minimum} to {maximum}");
        if (text is null)
        {
            return null;
        }

        var node = Child(map, key);
        var parsed = double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var number);
        if (!parsed || double.IsNaN(number) || (double.IsFinite(number) && number != Math.Floor(number)))
        {
            Error(node, Join(path, key), $"'{text}' is not a whole number (expected an integer from {minimum} to {maximum})");
            return null;
        }

        if (number < minimum || number > maximum)
        {
            Error(node, Join(path, key), $"{text} is out of range (expected {minimum} to {maximum})");
            return null;
        }

        return (int)number;
    }

    public double? Number(YamlMappingNode? map, string key, string path, double minimum, double maximum, bool required = true)
    {
        var range = $"{NumberText(minimum)} to {NumberText(maximum)}";
        var text = ScalarText(map, key, path, required, $"a number from {range}");
        if (text is null)
        {
            return null;
        }

        var node = Child(map, key);
        if (!TryParseCount(text, out var number) && !double.IsInfinity(number))
        {
            Error(node, Join(path, key), $"'{text}' is not a number (expected a number from {range}{(maximum >= 1e4 ? ", optionally with k, M, B or T" : string.Empty)})");
            return null;
        }

        if (number < minimum || number > maximum)
        {
            Error(node, Join(path, key), $"{text} is out of range (expected {range})");
            return null;
        }

        return number;
    }

    public bool? Boolean(YamlMappingNode? map, string key, string path)
    {
        var text = String(map, key, path, required: false);
        return text switch
        {
            null => null,
            "true" or "yes" or "on" => true,
            "false" or "no" or "off" => false,
            _ => Fail<bool>(Child(map, key), Join(path, key), $"'{text}' is not true or false"),
        };
    }

    public TEnum? Enumeration<TEnum>(YamlMappingNode? map, string key, string path, IReadOnlyDictionary<string, TEnum> names, bool required = true)
        where TEnum : struct =>
        Named(map, key, path, names, required, out var value) ? value : null;

    /// <summary>A value chosen by name from <paramref name="names"/> (records as well as enums), or null with a diagnostic naming the choices.</summary>
    public TValue? Choice<TValue>(YamlMappingNode? map, string key, string path, IReadOnlyDictionary<string, TValue> names, bool required = true)
        where TValue : class =>
        Named(map, key, path, names, required, out var value) ? value : null;

    private bool Named<TValue>(YamlMappingNode? map, string key, string path, IReadOnlyDictionary<string, TValue> names, bool required, out TValue value)
    {
        value = default!;
        var text = ScalarText(map, key, path, required, $"one of: {string.Join(", ", names.Keys)}");
        if (text is null)
        {
            return false;
        }

        if (names.TryGetValue(text.Trim(), out var found))
        {
            value = found;
            return true;
        }

        Error(Child(map, key), Join(path, key), $"'{text}' is not one of: {string.Join(", ", names.Keys)}");
        return false;
    }

    public T? Quantity<T>(YamlNode? node, string field, bool allowZero = false, PlausibleRange? range = null)
        where T : struct, IQuantity<T>
    {
        var text = Scalar(node);
        if (!Units.Quantity.TryParse<T>(text, out var value, out var error))
        {
            Error(node, field, error);
            return null;
        }

        // A rate, size or power of zero would make a time infinite; only a latency may be zero.
        var zeroAllowed = allowZero || typeof(T) == typeof(Duration);
        if (value.BaseValue < 0)
        {
            Error(node, field, $"'{text?.Trim()}' is negative (expected {range?.Description ?? (zeroAllowed ? $"a {T.Units.Name} of zero or more" : $"a {T.Units.Name} above zero")})");
            return null;
        }

        if (value.BaseValue == 0 && !zeroAllowed)
        {
            Error(node, field, $"'{text?.Trim()}' is not positive (expected {(range is null ? $"a {T.Units.Name} above zero" : range.Description)})");
            return null;
        }

        // Zero, where allowed, means "none" and is not held to the range.
        if (range is not null && value.BaseValue != 0 && !range.Holds(value.BaseValue))
        {
            Error(node, field, $"'{text?.Trim()}' is outside the plausible range of a {T.Units.Name} (expected {range.Description})");
            return null;
        }

        return value;
    }

    public T? Quantity<T>(YamlMappingNode? map, string key, string path, bool required = true, PlausibleRange? range = null)
        where T : struct, IQuantity<T>
    {
        var node = Child(map, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, Join(path, key), $"missing (expected a {T.Units.Name} such as '1 {T.Units.DisplayUnitFor(1).Symbol}')");
            }

            return null;
        }

        return Quantity<T>(node, Join(path, key), range: range);
    }

    /// <summary>Reads a sourced figure: <c>{value, source, status, derivation, note, alternatives, range}</c>.</summary>
    public Figure<TValue>? Figure<TValue>(YamlMappingNode? map, string key, string path, Func<YamlNode, string, TValue?> parse, ISet<string> sources, bool required, Func<YamlMappingNode, string, TValue?>? parseMapping = null)
        where TValue : struct
    {
        var node = Child(map, key);
        var field = Join(path, key);
        if (node is null)
        {
            if (required)
            {
                Error(map, field, "missing (expected {value: ..., source: ...})");
            }

            return null;
        }

        if (node is not YamlMappingNode figure)
        {
            Error(node, field, "expected a sourced figure {value: ..., source: ...}; every hardware figure needs a source");
            return null;
        }

        CheckKeys(figure, field, "value", "source", "status", "derivation", "note", "alternatives", "direction", "range");
        var valueNode = Child(figure, "value");
        TValue? value = null;
        if (valueNode is null)
        {
            Error(figure, Join(field, "value"), "missing");
        }
        else
        {
            value = parseMapping is not null ? parseMapping(figure, field) : parse(valueNode, Join(field, "value"));
        }

        var source = SourceReference(figure, field, sources);
        var status = Enumeration(figure, "status", field, FigureStatuses, required: false) ?? FigureStatus.Official;
        var derivation = String(figure, "derivation", field, required: false);
        if (status is FigureStatus.Estimate or FigureStatus.Projection && string.IsNullOrWhiteSpace(derivation))
        {
            Error(figure, Join(field, "derivation"), $"missing: a figure marked '{status.ToString().ToLowerInvariant()}' must say how it was derived");
        }

        var alternatives = new List<TValue>();
        if (Child(figure, "alternatives") is YamlSequenceNode list)
        {
            var index = 0;
            foreach (var item in list)
            {
                var itemField = $"{field}.alternatives[{index++}]";
                if (item is YamlMappingNode alternative && Child(alternative, "value") is { } alternativeValue)
                {
                    _ = SourceReference(alternative, itemField, sources);
                    var parsed = parseMapping is not null ? parseMapping(alternative, itemField) : parse(alternativeValue, Join(itemField, "value"));
                    if (parsed is { } some)
                    {
                        alternatives.Add(some);
                    }
                }
                else
                {
                    Error(item, itemField, "expected {value: ..., source: ...}");
                }
            }
        }

        var range = FigureRange(figure, field, value, parse);
        if (value is null || source is null)
        {
            return null;
        }

        return new Figure<TValue>(value.Value, source, status, derivation, String(figure, "note", field, required: false)) { Alternatives = [.. alternatives], Range = range };
    }

    /// <summary>A figure's <c>range: [low, high]</c>, which must hold its value.</summary>
    private (TValue Low, TValue High)? FigureRange<TValue>(YamlMappingNode figure, string field, TValue? value, Func<YamlNode, string, TValue?> parse)
        where TValue : struct
    {
        var node = Child(figure, "range");
        var rangeField = Join(field, "range");
        if (node is null)
        {
            return null;
        }

        if (node is not YamlSequenceNode { Children.Count: 2 } pair)
        {
            Error(node, rangeField, "expected [low, high], two values in the figure's unit");
            return null;
        }

        var low = parse(pair.Children[0], rangeField + "[0]");
        var high = parse(pair.Children[1], rangeField + "[1]");
        if (low is not { } lowest || high is not { } highest)
        {
            return null;
        }

        var comparer = Comparer<TValue>.Default;
        if (comparer.Compare(lowest, highest) > 0 || (value is { } stated && (comparer.Compare(stated, lowest) < 0 || comparer.Compare(stated, highest) > 0)))
        {
            Error(node, rangeField, $"[{YamlReader.Scalar(pair.Children[0])}, {YamlReader.Scalar(pair.Children[1])}] must be [low, high] with the value between them");
            return null;
        }

        return (lowest, highest);
    }

    public T? Fail<T>(YamlNode? node, string field, string message)
        where T : struct
    {
        Error(node, field, message);
        return null;
    }

    public static string? Scalar(YamlNode? node) => node is YamlScalarNode scalar ? scalar.Value : null;

    /// <summary>A list of names (vendors, families): its items, or null when the node is not a list of non-blank scalars.</summary>
    public static ImmutableArray<string>? Names(YamlNode? node) =>
        node is YamlSequenceNode list && list.Children.All(item => !string.IsNullOrWhiteSpace(Scalar(item)))
            ? [.. list.Children.Select(item => Scalar(item)!)]
            : null;

    /// <summary>A bound as an error message gives it: plain below a million, else as the input may write it (1e18, 1e-9).</summary>
    public static string NumberText(double value) =>
        value != 0 && (Math.Abs(value) >= 1e6 || Math.Abs(value) < 1e-3)
            ? value.ToString("0.###e0", CultureInfo.InvariantCulture)
            : value.ToString("0.####", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads a count such as 15.6T or 2_048 (k, M, B or G, T); false where it is not a number, or is one too large to
    /// hold (<paramref name="value"/> is then infinite, which a caller reports as out of range).
    /// </summary>
    public static bool TryParseCount(string text, out double value)
    {
        var trimmed = text.Trim().Replace("_", string.Empty, StringComparison.Ordinal);
        var multiplier = 1.0;
        if (trimmed.Length > 1 && char.IsLetter(trimmed[^1]))
        {
            multiplier = trimmed[^1] switch
            {
                'k' or 'K' => 1e3,
                'M' => 1e6,
                'B' or 'G' => 1e9,
                'T' => 1e12,
                _ => double.NaN,
            };
            trimmed = trimmed[..^1];
        }

        var parsed = double.TryParse(trimmed, NumberStyles.Float, CultureInfo.InvariantCulture, out value);
        value *= multiplier;
        return parsed && double.IsFinite(value);
    }

    /// <summary>A figure parser reading its value as a quantity with its unit, within the plausible range of its kind (<see cref="PlausibleRange.For{T}"/>).</summary>
    public Func<YamlNode, string, T?> QuantityValue<T>()
        where T : struct, IQuantity<T>
        => QuantityValue<T>(PlausibleRange.For<T>());

    /// <summary>A figure parser reading its value as a quantity within <paramref name="range"/>, for a figure whose kind's usual range does not fit it (a restart is not a latency).</summary>
    internal Func<YamlNode, string, T?> QuantityValue<T>(PlausibleRange? range)
        where T : struct, IQuantity<T>
        => (node, field) => Quantity<T>(node, field, range: range);

    /// <summary>A figure parser reading a quantity that may be zero (a power a system does not draw), and otherwise within the plausible range of its kind.</summary>
    public Func<YamlNode, string, T?> QuantityOrZeroValue<T>()
        where T : struct, IQuantity<T>
        => (node, field) => Quantity<T>(node, field, allowZero: true, range: PlausibleRange.For<T>());

    /// <summary>A figure parser reading its value as a whole number from <paramref name="minimum"/> to <paramref name="maximum"/>.</summary>
    public Func<YamlNode, string, int?> CountValue(int minimum, int maximum) => (node, field) =>
    {
        var text = Scalar(node) ?? string.Empty;
        if (TryParseCount(text, out var value) && value == Math.Floor(value) && value >= minimum && value <= maximum)
        {
            return (int)value;
        }

        Error(node, field, $"'{text}' is not a whole number from {minimum} to {maximum}");
        return null;
    };

    /// <summary>
    /// A figure parser reading its value as a fraction from <paramref name="minimum"/> to 1: an efficiency of a
    /// fabric or a power supply is at least 0.01 (below, a typo that would make times or energies absurd).
    /// </summary>
    public Func<YamlNode, string, double?> FractionValue(double minimum = 0.01) => (node, field) =>
    {
        var text = Scalar(node) ?? string.Empty;
        if (TryParseCount(text, out var value) && value >= minimum && value <= 1)
        {
            return value;
        }

        Error(node, field, $"'{text}' is not a plausible fraction (expected a number from {minimum.ToString(CultureInfo.InvariantCulture)} to 1)");
        return null;
    };

    /// <summary>A figure parser reading its value as a ratio from 1 to <paramref name="maximum"/> (a facility's power usage effectiveness).</summary>
    public Func<YamlNode, string, double?> RatioValue(double maximum) => (node, field) =>
    {
        var text = Scalar(node) ?? string.Empty;
        if (TryParseCount(text, out var value) && value >= 1 && value <= maximum)
        {
            return value;
        }

        Error(node, field, $"'{text}' is not a ratio from 1 to {maximum.ToString(CultureInfo.InvariantCulture)}");
        return null;
    };

    /// <summary>The <c>source</c> id of <paramref name="figure"/>, reported when it names no source of the catalogue.</summary>
    public string? SourceReference(YamlMappingNode figure, string field, ISet<string> sources)
    {
        var source = String(figure, "source", field);
        if (source is not null && !sources.Contains(source))
        {
            Error(Child(figure, "source"), Join(field, "source"), $"unknown source '{source}' (define it in catalog/sources/)");
            return null;
        }

        return source;
    }

    internal static readonly Dictionary<string, FigureStatus> FigureStatuses = new()
    {
        ["official"] = FigureStatus.Official,
        ["reported"] = FigureStatus.Reported,
        ["estimate"] = FigureStatus.Estimate,
        ["projection"] = FigureStatus.Projection,
    };
}
