using System.Text.Json;
using ClusterTwin.Catalog;

namespace ClusterTwin.Calibration;

/// <summary>The JSON files of timings that <c>tools/measure-kernels.py</c> writes, opened with errors that name the file.</summary>
internal static class MeasurementFile
{
    /// <summary>
    /// The JSON file of <paramref name="what"/> at <paramref name="path"/>, which <paramref name="writer"/> writes; a
    /// folder, a missing file or one that is not JSON is an error naming the file.
    /// </summary>
    internal static JsonDocument Open(string path, string what, string writer)
    {
        if (Directory.Exists(path) || !File.Exists(path))
        {
            throw new InputException(path, $"{(Directory.Exists(path) ? "is a folder" : "not found")} (expected the JSON file of {what} {writer} writes)");
        }

        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(BoundedFile.ReadAllText(path));
        }
        catch (JsonException error)
        {
            // The parser counts lines and bytes from 0; NaN and Infinity, which Python's json module writes, are not JSON.
            var where = error.LineNumber is { } line ? $"line {line + 1}, byte {error.BytePositionInLine + 1}: " : string.Empty;
            throw new InputException(path, $"not valid JSON at {where}{error.Message.Split(" LineNumber:")[0].TrimEnd('.', ' ')} (expected the JSON file {writer} writes, whose numbers are finite: NaN and Infinity are not JSON)");
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            throw new InputException(path, $"cannot read the {what}: {error.Message} (expected the JSON file {writer} writes)");
        }

        if (document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("method", out var method) && !KnownMethod(method))
        {
            var given = method.GetRawText();
            document.Dispose();
            throw new InputException(path, $"method: {given} is not a way of timing this version reads (expected {ToolMethod}, the one tools/measure-kernels.py writes, or \"published\" for imported timings): read it with the version that wrote it");
        }

        return document;
    }

    /// <summary>The timing method <c>tools/measure-kernels.py</c> writes (its <c>method</c> field), the one the fits read.</summary>
    internal const int ToolMethod = 2;

    private static bool KnownMethod(JsonElement method) =>
        (method.ValueKind == JsonValueKind.Number && method.TryGetInt32(out var number) && number == ToolMethod) ||
        (method.ValueKind == JsonValueKind.String && method.GetString() == "published");
}
