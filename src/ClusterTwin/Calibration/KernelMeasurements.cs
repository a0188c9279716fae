using System.Collections.Immutable;
using System.Text.Json;
using ClusterTwin.Catalog;
using ClusterTwin.Hardware;
using ClusterTwin.Units;

namespace ClusterTwin.Calibration;

/// <summary>One timed matrix multiply of an (m x k) by a (k x n) matrix.</summary>
/// <param name="Precision">The operands' precision; the efficiency is against the chip's peak at it.</param>
/// <param name="Layout">Which operands are transposed: NT (a linear layer's forward), NN (its input gradient), TN (its weight gradient).</param>
/// <param name="Work">2mkn operations.</param>
/// <param name="Traffic">The operands and the result, each moved once.</param>
/// <param name="Time">One launch.</param>
public sealed record MatrixMeasurement(Precision Precision, string Layout, Flops Work, Bytes Traffic, Duration Time);

/// <summary>One timed fused attention, forward and backward apart.</summary>
/// <param name="Backend">The attention implementation (PyTorch's back-end name, such as CUDNN_ATTENTION).</param>
/// <param name="ForwardWork">The forward's operations as the engine counts them: 2 b h s² (d_qk + d_v), halved under the causal mask.</param>
/// <param name="ForwardTime">One forward.</param>
/// <param name="BackwardTime">One backward.</param>
/// <param name="Causal">Whether the causal mask applied (a file without the field timed causal attention only).</param>
public sealed record AttentionMeasurement(string Backend, Flops ForwardWork, Duration ForwardTime, Duration BackwardTime, bool Causal = true)
{
    /// <summary>The head widths timed (a file without <c>head_size</c> timed 128; without <c>value_head_size</c>, values as wide as keys).</summary>
    public AttentionHeadSize HeadSize { get; init; } = AttentionHeadSize.Reference;

    /// <summary>The sequence length timed, where the file gives it (0 where not).</summary>
    public int Sequence { get; init; }
}

/// <summary>One timed memory-bound kernel (a scaling, an addition).</summary>
/// <param name="Kernel">What it does.</param>
/// <param name="Traffic">Bytes read plus bytes written.</param>
/// <param name="Time">One launch.</param>
public sealed record MemoryMeasurement(string Kernel, Bytes Traffic, Duration Time);

/// <summary>
/// The kernel timings <c>tools/measure-kernels.py</c> writes for one GPU: what the family's matrix, attention and memory
/// curves are derived from (<see cref="KernelCurveFit"/>).
/// </summary>
/// <param name="Device">What was measured, as the file describes it (name, driver, library versions).</param>
/// <param name="MeasuredAt">When, as the file gives it (UTC).</param>
/// <param name="Matrix">The timed multiplies.</param>
/// <param name="Attention">The timed fused attentions.</param>
/// <param name="Memory">The timed memory-bound kernels.</param>
public sealed record KernelMeasurements(string Device, string MeasuredAt, ImmutableArray<MatrixMeasurement> Matrix, ImmutableArray<AttentionMeasurement> Attention,
    ImmutableArray<MemoryMeasurement> Memory)
{
    /// <summary>The measured GPU's memory as its runtime reports it, where the file gives it: to check the chip named.</summary>
    public Bytes? MemoryCapacity { get; init; }

    /// <summary>The measured GPU's name as the file gives it ("NVIDIA GB300"), empty where it gives none.</summary>
    public string DeviceName { get; init; } = string.Empty;

    /// <summary>
    /// Reads a measurement file. Rows the tool recorded as failed (an <c>error</c> field) are skipped; a row with a
    /// missing or impossible figure is an error naming the file, the row and the field.
    /// </summary>
    public static KernelMeasurements Read(string path)
    {
        using (var document = MeasurementFile.Open(path, "kernel timings", "tools/measure-kernels.py"))
        {
            var problems = new List<Diagnostic>();
            var root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw new InputException(path, $"expected a JSON object with device, matrix, attention and memory (the file tools/measure-kernels.py writes), not a {root.ValueKind.ToString().ToLowerInvariant()}");
            }

            var hasFacts = root.TryGetProperty("device", out var facts) && facts.ValueKind == JsonValueKind.Object;
            var name = hasFacts && facts.TryGetProperty("name", out var named) ? named.ToString() : string.Empty;
            var device = hasFacts ? Describe(facts, name) : string.Empty;
            if (device.Length == 0)
            {
                problems.Add(new Diagnostic(path, 0, "device", "missing: the measured GPU's name, driver and libraries (an object with at least \"name\")"));
            }

            var when = root.TryGetProperty("measured_utc", out var stamp) && stamp.ValueKind == JsonValueKind.String ? stamp.GetString() ?? string.Empty : string.Empty;
            if (when.Length == 0)
            {
                problems.Add(new Diagnostic(path, 0, "measured_utc", "missing: when the kernels were timed, as text (such as \"2026-11-26T06:03:14Z\")"));
            }

            var matrix = Rows(path, root, "matrix", problems, field =>
            {
                var precision = field.Text("precision") switch
                {
                    "bf16" => Precision.Bf16,
                    "fp8" => Precision.Fp8,
                    { } other => field.Fail<Precision?>("precision", $"'{other}' is not a measured precision (expected bf16 or fp8)"),
                    null => null,
                };
                var (work, traffic, time) = (field.Positive("operations"), field.Positive("bytes"), field.Positive("seconds"));
                return precision is { } known && work is { } w && traffic is { } b && time is { } t
                    && field.Text("layout") is { } layout
                    ? new MatrixMeasurement(known, layout, Flops.FromOperations(w), Bytes.FromCount(b), Duration.FromSeconds(t))
                    : null;
            });
            var attention = Rows(path, root, "attention", problems, field =>
            {
                var (backend, work, forward, backward) = (field.Text("backend"), field.Positive("forward_operations"), field.Positive("forward_seconds"), field.Positive("backward_seconds"));
                var causal = field.Flag("causal", true);
                var headSize = field.Whole("head_size", AttentionHeadSizes.ReferenceSize);
                var valueHeadSize = field.Whole("value_head_size", headSize ?? AttentionHeadSizes.ReferenceSize);
                var sequence = field.Whole("sequence", 0);
                return backend is not null && work is { } w && forward is { } f && backward is { } b && causal is { } masked && headSize is { } queryKey && valueHeadSize is { } value && sequence is { } length
                    ? new AttentionMeasurement(backend, Flops.FromOperations(w), Duration.FromSeconds(f), Duration.FromSeconds(b), masked)
                    {
                        HeadSize = new AttentionHeadSize(queryKey, value), Sequence = length,
                    }
                    : null;
            });
            var memory = Rows(path, root, "memory", problems, field =>
            {
                var (kernel, traffic, time) = (field.Text("kernel"), field.Positive("bytes"), field.Positive("seconds"));
                return kernel is not null && traffic is { } b && time is { } t ? new MemoryMeasurement(kernel, Bytes.FromCount(b), Duration.FromSeconds(t)) : null;
            });
            if (problems.Count == 0 && matrix.IsEmpty && attention.IsEmpty && memory.IsEmpty)
            {
                problems.Add(new Diagnostic(path, 0, "matrix", "no timed rows in matrix, attention or memory (expected the file tools/measure-kernels.py writes)"));
            }

            if (problems.Count > 0)
            {
                throw new InputException(problems);
            }

            var capacity = hasFacts && facts.TryGetProperty("memory_bytes", out var bytes) && bytes.ValueKind == JsonValueKind.Number && bytes.TryGetDouble(out var count) && count > 0
                ? Bytes.FromCount(count)
                : (Bytes?)null;
            return new KernelMeasurements(device, when, matrix, attention, memory) { MemoryCapacity = capacity, DeviceName = name };
        }
    }

    private static string Describe(JsonElement facts, string name)
    {
        string Fact(string key) => facts.TryGetProperty(key, out var value) ? value.ToString() : string.Empty;
        if (name.Length == 0)
        {
            return string.Empty;
        }

        var parts = new[] { ("driver", Fact("driver")), ("PyTorch", Fact("torch")), ("CUDA", Fact("cuda")), ("cuDNN", Fact("cudnn")), ("published in", Fact("source")) }
            .Where(part => part.Item2.Length > 0).Select(part => $"{part.Item1} {part.Item2}");
        return string.Join(", ", [name, .. parts]);
    }

    private static ImmutableArray<T> Rows<T>(string path, JsonElement root, string key, List<Diagnostic> problems, Func<RowFields, T?> read)
        where T : class
    {
        // A group the script did not time (--only attention, --only head-sizes) is absent: no rows of it.
        if (!root.TryGetProperty(key, out var rows))
        {
            return [];
        }

        if (rows.ValueKind != JsonValueKind.Array)
        {
            problems.Add(new Diagnostic(path, 0, key, $"a JSON {rows.ValueKind.ToString().ToLowerInvariant()}, where a list of measured rows belongs"));
            return [];
        }

        var result = ImmutableArray.CreateBuilder<T>();
        var index = 0;
        foreach (var row in rows.EnumerateArray())
        {
            var field = new RowFields(path, $"{key}[{index++}]", row, problems);
            if (row.ValueKind != JsonValueKind.Object)
            {
                problems.Add(new Diagnostic(path, 0, field.Prefix, "expected an object"));
            }
            else if (!row.TryGetProperty("error", out _) && read(field) is { } measurement)
            {
                result.Add(measurement);
            }
        }

        return result.ToImmutable();
    }

    /// <summary>Reads the fields of one row, recording each problem against the row.</summary>
    private sealed class RowFields(string path, string prefix, JsonElement row, List<Diagnostic> problems)
    {
        public string Prefix => prefix;

        public string? Text(string key)
        {
            if (row.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.String)
            {
                return value.GetString();
            }

            problems.Add(new Diagnostic(path, 0, $"{prefix}.{key}", "missing: expected a string"));
            return null;
        }

        public double? Positive(string key)
        {
            if (row.TryGetProperty(key, out var value) && value.ValueKind == JsonValueKind.Number && value.TryGetDouble(out var number) && double.IsFinite(number) && number > 0)
            {
                return number;
            }

            problems.Add(new Diagnostic(path, 0, $"{prefix}.{key}", $"{(row.TryGetProperty(key, out var found) ? $"'{found}'" : "missing")}: expected a positive number"));
            return null;
        }

        public int? Whole(string key, int absent)
        {
            if (!row.TryGetProperty(key, out var value))
            {
                return absent;
            }

            if (value.ValueKind == JsonValueKind.Number && value.TryGetInt32(out var number) && number > 0)
            {
                return number;
            }

            problems.Add(new Diagnostic(path, 0, $"{prefix}.{key}", $"'{value}': expected a positive whole number"));
            return null;
        }

        public bool? Flag(string key, bool absent)
        {
            if (!row.TryGetProperty(key, out var value))
            {
                return absent;
            }

            if (value.ValueKind is JsonValueKind.True or JsonValueKind.False)
            {
                return value.GetBoolean();
            }

            problems.Add(new Diagnostic(path, 0, $"{prefix}.{key}", $"'{value}': expected true or false"));
            return null;
        }

        public T? Fail<T>(string key, string message)
        {
            problems.Add(new Diagnostic(path, 0, $"{prefix}.{key}", message));
            return default;
        }
    }
}
