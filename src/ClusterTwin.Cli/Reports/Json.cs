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

        // Plain apostrophes and signs in messages; the output is read by programs and people, never embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    /// <summary>Serializes a report document.</summary>
    public static string Serialize(object document) => JsonSerializer.Serialize(document, Options);
}
