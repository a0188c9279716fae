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
    };

    /// <summary>Serializes a report document.</summary>
    public static string Serialize(object document) => JsonSerializer.Serialize(document, Options);
}
