using System.Globalization;
using System.Text;

namespace ClusterTwin.Serving;

/// <summary>One request: when it arrives, its prompt and how many tokens it generates.</summary>
/// <param name="Arrival">Arrival time, in seconds from the start.</param>
/// <param name="InputTokens">Prompt tokens.</param>
/// <param name="OutputTokens">Tokens generated (at least one).</param>
public readonly record struct Request(double Arrival, int InputTokens, int OutputTokens);

/// <summary>How requests arrive.</summary>
public enum ArrivalKind
{
    /// <summary>A Poisson process at a fixed rate.</summary>
    Poisson,

    /// <summary>
    /// Gamma-distributed gaps at a fixed mean rate (vLLM's benchmark <c>--burstiness</c>): a burstiness of 1 is
    /// Poisson, below 1 requests come in bursts, above 1 more evenly.
    /// </summary>
    Bursty,

    /// <summary>All at time zero (an offline throughput benchmark).</summary>
    AllAtOnce,

    /// <summary>Read from a trace file.</summary>
    Trace,
}

/// <summary>
/// A token count: fixed, uniform between two bounds, or log-normal (the shape of chat datasets such as ShareGPT)
/// with a median and a spread, drawn again when it falls outside the bounds (as benchmark scripts drop such samples).
/// </summary>
/// <param name="Low">The least.</param>
/// <param name="High">The most (equal to <paramref name="Low"/> for a fixed count).</param>
public readonly record struct TokenCount(int Low, int High)
{
    /// <summary>The median of a log-normal count; zero for a uniform one.</summary>
    public double Median { get; init; }

    /// <summary>The standard deviation of the count's natural logarithm; zero for a uniform count.</summary>
    public double Spread { get; init; }

    /// <summary>A fixed count.</summary>
    public static TokenCount Fixed(int count) => new(count, count);

    /// <summary>A log-normal count within <paramref name="low"/> and <paramref name="high"/>.</summary>
    public static TokenCount LogNormal(double median, double spread, int low, int high) => new(low, high) { Median = median, Spread = spread };

    /// <summary>Draws a count.</summary>
    public int Draw(Random random)
    {
        ArgumentNullException.ThrowIfNull(random);
        if (Spread <= 0)
        {
            return Low == High ? Low : random.Next(Low, High + 1);
        }

        // Log-normal; redrawn while outside the bounds (bounded tries for bounds that hold almost nothing, then the nearest bound).
        var draw = Median;
        for (var attempt = 0; attempt < 10_000; attempt++)
        {
            var normal = StandardNormal.Draw(random);
            draw = Math.Round(Median * Math.Exp(Spread * normal));
            if (draw >= Low && draw <= High)
            {
                return (int)draw;
            }
        }

        return (int)Math.Clamp(draw, Low, High);
    }
}

/// <summary>The requests a serving scenario sends: generated from a seeded stream, or read from a trace file one line at a time.</summary>
public sealed record RequestWorkload
{
    /// <summary>How requests arrive.</summary>
    public required ArrivalKind Arrivals { get; init; }

    /// <summary>Requests per second, for Poisson and bursty arrivals.</summary>
    public double Rate { get; init; }

    /// <summary>The gamma distribution's shape for bursty arrivals: 1 is Poisson, smaller is burstier.</summary>
    public double Burstiness { get; init; } = 1;

    /// <summary>How many requests (generated arrivals).</summary>
    public long Requests { get; init; }

    /// <summary>Prompt lengths.</summary>
    public TokenCount InputTokens { get; init; }

    /// <summary>Output lengths.</summary>
    public TokenCount OutputTokens { get; init; }

    /// <summary>The seed of the arrival and length streams.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>A CSV trace (<c>arrival_seconds,input_tokens,output_tokens</c>, a header line allowed), for <see cref="ArrivalKind.Trace"/>.</summary>
    public string? TraceFile { get; init; }

    /// <summary>The requests, in arrival order, generated lazily: memory does not grow with their number.</summary>
    public IEnumerable<Request> Stream()
    {
        if (Arrivals == ArrivalKind.Trace)
        {
            foreach (var request in ReadTrace(TraceFile!))
            {
                yield return request;
            }

            yield break;
        }

        var random = new Random(Seed);
        var time = 0.0;
        for (long index = 0; index < Requests; index++)
        {
            if (Arrivals == ArrivalKind.Poisson)
            {
                time += -Math.Log(1 - random.NextDouble()) / Rate;
            }
            else if (Arrivals == ArrivalKind.Bursty)
            {
                time += Gamma(random, Burstiness) / (Burstiness * Rate);
            }

            yield return new Request(time, InputTokens.Draw(random), Math.Max(1, OutputTokens.Draw(random)));
        }
    }

    /// <summary>A draw of the gamma distribution of shape <paramref name="shape"/> and scale 1 (Marsaglia and Tsang, 2000; boosted below shape 1).</summary>
    internal static double Gamma(Random random, double shape)
    {
        if (shape < 1)
        {
            return Gamma(random, shape + 1) * Math.Pow(1 - random.NextDouble(), 1 / shape);
        }

        var d = shape - (1.0 / 3);
        var c = 1 / Math.Sqrt(9 * d);
        while (true)
        {
            double normal, v;
            do
            {
                normal = StandardNormal.Draw(random);
                v = 1 + (c * normal);
            }
            while (v <= 0);

            v = v * v * v;
            var u = 1 - random.NextDouble();
            if (Math.Log(u) < (0.5 * normal * normal) + d - (d * v) + (d * Math.Log(v)))
            {
                return d * v;
            }
        }
    }

    /// <summary>Splits a trace line into its three fields without allocating: the arrival parsed, the counts' places.</summary>
    private static bool Fields(string text, out double arrival, out (int Start, int Length) input, out (int Start, int Length) output)
    {
        var line = text.AsSpan();
        var first = line.IndexOf(',');
        var second = first < 0 ? -1 : line[(first + 1)..].IndexOf(',') + first + 1;
        (input, output) = (default, default);
        arrival = 0;
        if (first < 0 || second <= first || line[(second + 1)..].Contains(',') ||
            !double.TryParse(line[..first], NumberStyles.Float, CultureInfo.InvariantCulture, out arrival))
        {
            return false;
        }

        input = (first + 1, second - first - 1);
        output = (second + 1, line.Length - second - 1);
        return true;
    }

    /// <summary>The trace's columns, in the order they are read.</summary>
    private const string TraceHeader = "arrival_seconds,input_tokens,output_tokens";

    /// <summary>The latest arrival a trace may hold, in seconds: past it, double precision loses the iterations' times.</summary>
    private const double LatestArrival = 1e9;

    /// <summary>Whether <paramref name="text"/> names the three columns in the order they are read (arrival, input, output: "arrival_seconds,input_tokens,output_tokens", "arrival,input,output").</summary>
    private static bool IsHeader(string text) =>
        text.Split(',') is [var arrival, var input, var output] &&
        arrival.Trim().StartsWith("arrival", StringComparison.OrdinalIgnoreCase) &&
        input.Trim().StartsWith("input", StringComparison.OrdinalIgnoreCase) &&
        output.Trim().StartsWith("output", StringComparison.OrdinalIgnoreCase);

    /// <summary>
    /// What is wrong with the trace at <paramref name="path"/> up to its first request, read as the stream reads it
    /// (blank lines and a header skipped), without the path: "line 3: expected ..." or "no requests (...)"; null
    /// where a request comes first. Reads only up to that request, so memory does not grow with the trace.
    /// </summary>
    internal static string? TraceProblem(string path)
    {
        try
        {
            using var requests = ReadTrace(path).GetEnumerator();
            _ = requests.MoveNext();
            return null;
        }
        catch (InvalidDataException error) when (error.Message.StartsWith(path + ": ", StringComparison.Ordinal))
        {
            return error.Message[(path.Length + 2)..];
        }
        catch (Exception error) when (error is IOException or UnauthorizedAccessException)
        {
            return $"cannot be read: {error.Message}";
        }
    }

    /// <summary>The longest line a trace may hold: a request is a few dozen characters.</summary>
    private const int LongestLine = 4096;

    private static IEnumerable<Request> ReadTrace(string path)
    {
        using var reader = new StreamReader(path);
        var line = 0;
        var last = 0.0;
        var requests = 0L;
        var first = true;
        var buffer = new StringBuilder();
        while (ReadLine(reader, buffer, path, line + 1) is { } text)
        {
            line++;
            if (string.IsNullOrWhiteSpace(text))
            {
                continue;
            }

            var isFirst = first;
            first = false;
            if (!Fields(text, out var arrival, out var inputText, out var outputText))
            {
                // A first line that is not a request must be the header, with the columns in the order they are read.
                if (isFirst && IsHeader(text))
                {
                    continue;
                }

                // A line of comma-separated values in another number than three says how many it has.
                var columns = text.Count(character => character == ',') + 1;
                var counted = columns is > 1 and not 3 ? $"{columns} columns where a request has 3; " : string.Empty;
                throw Invalid(path, isFirst
                    ? $"line {line}: {counted}expected the header {TraceHeader} (in that column order) or a first request (such as 0.25,512,128)"
                    : $"line {line}: {counted}expected {TraceHeader} (such as 0.25,512,128)");
            }

            if (!int.TryParse(text.AsSpan(inputText.Start, inputText.Length), CultureInfo.InvariantCulture, out var input) ||
                !int.TryParse(text.AsSpan(outputText.Start, outputText.Length), CultureInfo.InvariantCulture, out var output) ||
                input < 1 || output < 1)
            {
                throw Invalid(path, $"line {line}: input_tokens and output_tokens must be whole numbers from 1 to {int.MaxValue}");
            }

            if (!double.IsFinite(arrival) || arrival < 0 || arrival > LatestArrival)
            {
                throw Invalid(path, $"line {line}: arrival_seconds must be a number of seconds from 0 to {LatestArrival:0} (about 30 years)");
            }

            if (arrival < last)
            {
                throw Invalid(path, $"line {line}: arrival_seconds {arrival.ToString(CultureInfo.InvariantCulture)} goes back before the line above's {last.ToString(CultureInfo.InvariantCulture)} (sort the trace by arrival)");
            }

            last = arrival;
            requests++;
            yield return new Request(arrival, input, output);
        }

        if (requests == 0)
        {
            throw Invalid(path, $"no requests (expected lines of {TraceHeader}, such as 0.25,512,128, after an optional header)");
        }
    }

    /// <summary>
    /// The next line of <paramref name="reader"/> (ended by a line feed, a carriage return or both, as
    /// <see cref="StreamReader.ReadLine"/> reads them), null at the end; one longer than <see cref="LongestLine"/> is an
    /// error, so that a file with no line breaks (a binary file, a device) is refused instead of read into memory whole.
    /// </summary>
    private static string? ReadLine(StreamReader reader, StringBuilder buffer, string path, int line)
    {
        buffer.Clear();
        int next;
        while ((next = reader.Read()) >= 0)
        {
            if (next == '\n' || next == '\r')
            {
                if (next == '\r' && reader.Peek() == '\n')
                {
                    reader.Read();
                }

                return buffer.ToString();
            }

            if (buffer.Length == LongestLine)
            {
                throw Invalid(path, string.Create(CultureInfo.InvariantCulture, $"line {line}: longer than {LongestLine:N0} characters, where a trace's lines are a few dozen (expected {TraceHeader}, such as 0.25,512,128: is it the right file?)"));
            }

            buffer.Append((char)next);
        }

        return buffer.Length > 0 ? buffer.ToString() : null;
    }

    /// <summary>A trace that cannot be read: the message names the file, then the problem (which <see cref="TraceProblem"/> returns alone).</summary>
    private static InvalidDataException Invalid(string path, string problem) => new($"{path}: {problem}");
}

/// <summary>Draws of the standard normal distribution.</summary>
internal static class StandardNormal
{
    /// <summary>One draw by Box-Muller, from two uniform draws of <paramref name="random"/>.</summary>
    public static double Draw(Random random) => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble());
}
