using System.Text.Json;
using ClusterTwin.Engines.EventLevel;
using ClusterTwin.Parallelism;

namespace ClusterTwin.Cli.Reports;

/// <summary>
/// Writes a replayed step (<c>simulate --timeline FILE</c>) in the Trace Event Format that Perfetto
/// (ui.perfetto.dev) and Chrome's <c>chrome://tracing</c> open: one row per pipeline rank, a complete event
/// (<c>"ph": "X"</c>) per pass, in microseconds from the step's start, then the data-parallel communication and
/// optimizer that follow the pipeline, all stretched by the power limit where the chips throttle. A rank stands for
/// every chip that runs its work. The sends are not drawn: they show as the gaps they leave.
/// </summary>
public static class TimelineTrace
{
    /// <summary>Writes <paramref name="timeline"/> of <paramref name="scenario"/> to <paramref name="stream"/>.</summary>
    public static void Write(Stream stream, string scenario, StepTimeline timeline)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(timeline);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
        json.WriteStartObject();
        json.WriteString("displayTimeUnit", "ms");
        json.WriteStartObject("otherData");
        json.WriteString("scenario", scenario);
        json.WriteString("generator", "clustertwin simulate --timeline");
        json.WriteNumber("stepTimeSeconds", timeline.StepTime.Seconds);
        json.WriteEndObject();
        json.WriteStartArray("traceEvents");
        Metadata(json, "process_name", 0, 0, $"{scenario}: one step");
        for (var rank = 0; rank < timeline.Stages.Pipeline; rank++)
        {
            Metadata(json, "thread_name", 0, rank, $"pipeline rank {rank}");
            Metadata(json, "thread_sort_index", 0, rank, rank);
        }

        // Where the chips throttle at their power limit, every pass stretches with the step.
        var stretch = timeline.Stages.PowerStretch;
        var critical = timeline.Critical.Spans.ToHashSet();
        var index = 0;
        foreach (var span in timeline.Spans)
        {
            var onCriticalPath = critical.Contains(index++);
            var pass = span.Pass;
            // Under DualPipe the chunk is the direction: 0 fed from the first rank, 1 from the last.
            var name = PassKindNames.Letter(pass.Kind) + pass.MicroBatch.ToString(System.Globalization.CultureInfo.InvariantCulture)
                + (timeline.Stages.VirtualStages > 1 || timeline.Stages.Schedule == PipelineScheduleKind.DualPipe ? "." + pass.Chunk.ToString(System.Globalization.CultureInfo.InvariantCulture) : string.Empty);
            Complete(json, name, PassKindNames.Name(pass.Kind), span.Rank, span.Start.Seconds * stretch, (span.End.Seconds - span.Start.Seconds) * stretch, pass.MicroBatch, pass.Chunk, onCriticalPath);
        }

        var after = timeline.Stages.AfterPipeline.Seconds;
        if (after > 0)
        {
            for (var rank = 0; rank < timeline.Stages.Pipeline; rank++)
            {
                Complete(json, "data-parallel communication and optimizer", "after the pipeline", rank, timeline.Pipeline.Seconds * stretch, after * stretch, null, null, false);
            }
        }

        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void Metadata(Utf8JsonWriter json, string name, int process, int thread, object value)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("ph", "M");
        json.WriteNumber("pid", process);
        json.WriteNumber("tid", thread);
        json.WriteStartObject("args");
        if (value is int number)
        {
            json.WriteNumber("sort_index", number);
        }
        else
        {
            json.WriteString("name", value.ToString());
        }

        json.WriteEndObject();
        json.WriteEndObject();
    }

    private static void Complete(Utf8JsonWriter json, string name, string category, int rank, double startSeconds, double durationSeconds, int? microBatch, int? chunk, bool critical)
    {
        json.WriteStartObject();
        json.WriteString("name", name);
        json.WriteString("cat", category);
        json.WriteString("ph", "X");
        json.WriteNumber("pid", 0);
        json.WriteNumber("tid", rank);
        json.WriteNumber("ts", startSeconds * 1e6);
        json.WriteNumber("dur", durationSeconds * 1e6);
        if (microBatch is { } batch)
        {
            json.WriteStartObject("args");
            json.WriteNumber("micro_batch", batch);
            json.WriteNumber("chunk", chunk ?? 0);
            json.WriteBoolean("critical_path", critical);
            json.WriteEndObject();
        }

        json.WriteEndObject();
    }
}
