namespace ClusterTwin.Catalog;

/// <summary>
/// Reads an input file whole, refusing one larger than a ClusterTwin file can be: a scenario, a case, a catalogue entry
/// or a file of timings holds kilobytes, so a larger one is the wrong file (a log, a model checkpoint, a device such as
/// <c>/dev/zero</c>), read no further than the limit instead of until memory runs out.
/// </summary>
internal static class BoundedFile
{
    /// <summary>The largest input file read: 16 MiB, over a hundred times the largest file the repository ships (128 KB of timings).</summary>
    public const long MaximumBytes = 16L << 20;

    /// <summary>The bytes of <paramref name="path"/>; an <see cref="IOException"/> saying so where it holds more than <see cref="MaximumBytes"/>.</summary>
    public static byte[] ReadAllBytes(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        if (stream.CanSeek && stream.Length > MaximumBytes)
        {
            throw TooLarge(stream.Length);
        }

        using var bytes = new MemoryStream();
        var chunk = new byte[81920];
        int read;
        while ((read = stream.Read(chunk)) > 0)
        {
            if (bytes.Length + read > MaximumBytes)
            {
                throw TooLarge(null);
            }

            bytes.Write(chunk, 0, read);
        }

        return bytes.ToArray();
    }

    /// <summary>
    /// The text of <paramref name="path"/>, within the same limit: UTF-8 unless a byte-order mark says otherwise, the
    /// mark removed (as <see cref="File.ReadAllText(string)"/> reads it).
    /// </summary>
    public static string ReadAllText(string path)
    {
        using var reader = new StreamReader(new MemoryStream(ReadAllBytes(path)), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }

    private static IOException TooLarge(long? length) =>
        new(string.Create(System.Globalization.CultureInfo.InvariantCulture,
            $"it holds {(length is { } size ? $"{size / (double)(1 << 20):N1} MiB" : "more than 16 MiB")}, where a ClusterTwin file holds kilobytes (expected a scenario, case, catalogue or timings file under 16 MiB: is it the right file?)"));
}
