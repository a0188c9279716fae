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

        try
        {
            return JsonDocument.Parse(BoundedFile.ReadAllText(path));
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException or JsonException)
        {
            throw new InputException(path, $"cannot read the {what}: {error.Message} (expected the JSON file {writer} writes)");
        }
    }
}
