using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace ClusterTwin.Cli.Reports;

/// <summary>The one JSON style of every <c>--json</c> output: indented, camelCase, nulls left out.</summary>
public static class Json
{
    private static readonly JsonSerializerOptions Options = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        NumberHandling = JsonNumberHandling.Strict,
        Converters = { new FiniteNumberConverter() },

        // Plain apostrophes and signs in messages; the output is read by programs and people, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>The same style on one line, for a document sent to a program (the dashboard's page), not read by a person.</summary>
    private static readonly JsonSerializerOptions CompactOptions = new(Options) { WriteIndented = false };

    /// <summary>Serializes a report document, or throws <see cref="NonFiniteResultException"/> naming a number in it that is not finite.</summary>
    public static string Serialize(object document) => Serialize(document, indented: true);

    /// <summary>Serializes a report document indented or on one line, or throws <see cref="NonFiniteResultException"/> naming a number in it that is not finite.</summary>
    public static string Serialize(object document, bool indented)
    {
        try
        {
            return JsonSerializer.Serialize(document, indented ? Options : CompactOptions);
        }
        catch (JsonException error) when (error.InnerException is NonFiniteNumber number)
        {
            throw new NonFiniteResultException(ResultName(error.Path), number.Value);
        }
    }

    /// <summary>
    /// Checks that every number of a report document is finite, as <see cref="Serialize(object)"/> does, where the report is
    /// printed as tables: the last line of defence against an input figure far out of proportion that the readers let
    /// through, which would otherwise print as "Infinity days".
    /// </summary>
    public static void CheckFinite(object document) => _ = Serialize(document);

    /// <summary>"$.stepTime.total" as "stepTime.total"; the document itself where the path is unknown.</summary>
    private static string ResultName(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "result" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    /// <summary>Writes numbers as the strict options do, refusing NaN and the infinities with the value for the message.</summary>
    private sealed class FiniteNumberConverter : JsonConverter<double>
    {
        public override double Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.GetDouble();

        public override void Write(Utf8JsonWriter writer, double value, JsonSerializerOptions options)
        {
            if (!double.IsFinite(value))
            {
                // The serializer adds the property path to a JsonException thrown here.
                throw new JsonException(null, new NonFiniteNumber(value));
            }

            writer.WriteNumberValue(value);
        }
    }

    private sealed class NonFiniteNumber(double value) : Exception(value.ToString(CultureInfo.InvariantCulture))
    {
        public double Value { get; } = value;
    }
}

/// <summary>A result came out as NaN or an infinity: an input far out of proportion, reported instead of printed.</summary>
public sealed class NonFiniteResultException : Exception
{
    /// <summary>Creates the exception for the result field <paramref name="field"/>, whose value is <paramref name="value"/>.</summary>
    public NonFiniteResultException(string field, double value)
        : base($"the result's {field} came out as {(double.IsNaN(value) ? "NaN" : value > 0 ? "infinity" : "minus infinity")}, which no report can show: an input figure is far out of proportion (check the scenario's numbers and the catalogue figures of its chip, system and fabric against their sources)")
    {
        Field = field;
    }

    /// <summary>The result field, as the JSON output names it ("stepTime.total").</summary>
    public string Field { get; }
}
